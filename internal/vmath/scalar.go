package vmath

import "math"

// The scalar functions below are the algorithm of the assembly kernels, one
// operation for one instruction in the same order (math.FMA for a fused
// multiply-add), so that both give the same bits: the specification the
// tests hold the kernels to. The kernels handle every length and every
// input themselves; of these functions only exp1 runs outside the tests
// (in expGo).

// Reduction constants. ln2Hi is ln 2 to 32 significant bits, so k·ln2Hi is
// exact for |k| < 2²¹ and x − k·ln2Hi is exact (Sterbenz); ln2Lo is the
// rest of ln 2, so the reduced argument carries one rounding.
const (
	log2e = 1.44269504088896338700e+00 // 1/ln 2
	ln2Hi = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
	ln2Lo = 1.90821492927058770002e-10 // 0x3dea39ef35793c76
	// magic is 1.5·2⁵²: the sum x·log2e + magic rounds x·log2e to the
	// nearest integer k, whose two's complement fills the low 32 bits of
	// the sum's representation.
	magic = 0x1.8p52

	// expLo and expHi clamp the argument of exp: e^x rounds to 0 below
	// −745.14 and overflows above 709.79, and the clamped values keep
	// both halves of the scale 2^k normal.
	expLo = -746
	expHi = 710
	// tanhHi clamps |x| for tanh: tanh x rounds to 1 above 19.06, and
	// e^{2·tanhHi} is far from overflow.
	tanhHi = 20
)

// expPoly holds 1/n! for n = 13 down to 2: e^r = 1 + r·(1 + r·P(r)) with
// P(r) = Σ_{n=2}^{13} rⁿ⁻²/n!. On |r| ≤ ln2/2 the first term left out,
// r¹⁴/14!, is below 5·10⁻¹⁸ relative.
var expPoly = [...]float64{
	1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
	1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24,
	1.0 / 6, 1.0 / 2,
}

// logPoly holds 2/(2n+1) for n = 10 down to 1: with s = f/(2+f), z = s²,
// log(1+f) = 2 atanh s = 2s + s·R(z), R(z) = Σ_{n≥1} 2zⁿ/(2n+1). For the
// f that log1p01 passes, |s| ≤ 0.2, and the first term left out is below
// 2·10⁻¹⁷ relative.
var logPoly = [...]float64{
	2.0 / 21, 2.0 / 19, 2.0 / 17, 2.0 / 15, 2.0 / 13, 2.0 / 11, 2.0 / 9,
	2.0 / 7, 2.0 / 5, 2.0 / 3,
}

// reduce returns the integer k nearest x/ln 2, as the float t = k + magic
// (whose bits hold k), and r = x − k·ln 2, |r| ≤ ln2/2 (a hair more at
// ties), for finite |x| < 2⁵⁰.
func reduce(x float64) (t, r float64) {
	t = math.FMA(x, log2e, magic)
	k := t - magic
	r = math.FMA(-k, ln2Hi, x)
	r = math.FMA(-k, ln2Lo, r)
	return t, r
}

// poly returns P(r) of expPoly.
func poly(r float64) float64 {
	p := expPoly[0]
	for _, c := range expPoly[1:] {
		p = math.FMA(p, r, c)
	}
	return p
}

// kOf returns k from t = k + magic: the low 32 bits of t's
// representation, as the assembly reads them.
func kOf(t float64) int32 { return int32(uint32(math.Float64bits(t))) }

// pow2 returns 2^k for −1022 ≤ k ≤ 1023.
func pow2(k int32) float64 { return math.Float64frombits(uint64(k+1023) << 52) }

// exp1 is e^x.
func exp1(x float64) float64 {
	x = max(min(x, expHi), expLo)
	t, r := reduce(x)
	p := poly(r)
	p = math.FMA(p, r, 1)
	p = math.FMA(p, r, 1)
	// 2^k in two normal halves: the first product is exact, the second
	// rounds once, also to a subnormal.
	k := kOf(t)
	k1 := k >> 1
	return p * pow2(k1) * pow2(k-k1)
}

// tanh1 is tanh x = sign(x)·m/(m+2), m = e^{2|x|} − 1.
func tanh1(x float64) float64 {
	a := min(math.Abs(x), tanhHi)
	y := a + a
	t, r := reduce(y)
	q := math.FMA(r*r, poly(r), r) // e^r − 1
	s := pow2(kOf(t))              // 2^k, 0 ≤ k ≤ 58
	m := math.FMA(s, q, s-1)       // 2^k(e^r − 1) + 2^k − 1
	return math.Copysign(m/(m+2), x)
}

// sigmoid1 is 1/(1+e^{−x}), as e/(1+e) with e = e^x for x < 0.
func sigmoid1(x float64) float64 {
	e := exp1(-math.Abs(x))
	num := 1.0
	if math.Signbit(x) {
		num = e
	}
	return num / (1 + e)
}

// softplus1 is log(1+e^x) = max(x, 0) + log(1 + e^{−|x|}).
func softplus1(x float64) float64 {
	return max(x, 0) + log1p01(exp1(-math.Abs(x)))
}

// log1p01 is log(1+u) for u in [0, 1]. Below ½ it takes f = u; from ½
// on it takes 1+u = 2(1+f), f = (u−1)/2 in [−¼, 0], both exact, and adds
// ln 2. Then log(1+f) = f − f²/2 + s(f²/2 + R(s²)), s = f/(2+f), in
// which the leading term f carries no rounding.
func log1p01(u float64) float64 {
	f, k := u, 0.0
	if u >= 0.5 {
		f, k = (u-1)*0.5, 1
	}
	hfsq := f * f * 0.5
	s := f / (2 + f)
	z := s * s
	R := logPoly[0]
	for _, c := range logPoly[1:] {
		R = math.FMA(R, z, c)
	}
	// float64(…) rounds the product, as the assembly does, where a
	// compiler could fuse it into the sum that follows.
	R = float64(R * z)
	inner := math.FMA(s, hfsq+R, k*ln2Lo)
	return float64(k*ln2Hi) - ((hfsq - inner) - f)
}
