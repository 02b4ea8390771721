package vec

import "math"

// allFiniteGo reports whether no entry of x is NaN or ±Inf. v − v is 0
// for a finite v and NaN otherwise, so the four running sums stay 0
// exactly while the entries are finite; four of them let the additions
// overlap.
func allFiniteGo(x []float64) bool {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += v[0] - v[0]
		s1 += v[1] - v[1]
		s2 += v[2] - v[2]
		s3 += v[3] - v[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] - x[i]
	}
	return s0+s1+s2+s3 == 0
}

// FirstNonFinite returns the index of the first NaN or ±Inf in x, or -1 if
// every entry is finite. Finite x costs one AllFinite; only a bad x is
// scanned entry by entry, to find the index an error message names.
func FirstNonFinite(x []float64) int {
	if AllFinite(x) {
		return -1
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}
