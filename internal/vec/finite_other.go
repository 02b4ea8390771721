//go:build !amd64 || purego

package vec

// AllFinite reports whether no entry of x is NaN or ±Inf.
func AllFinite(x []float64) bool { return allFiniteGo(x) }
