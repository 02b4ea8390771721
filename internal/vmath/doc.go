// Package vmath evaluates the element-wise functions of curvkit's layers
// and losses on whole slices: Exp, Tanh, Sigmoid (1/(1+e^{−x})) and
// Softplus (log(1+e^x)), each storing f(x[i]) in dst[i]; and the simple
// passes around them, TanhBackward and SigmoidBackward (a vector carried
// back through the function from its outputs) and Add. dst may be an
// input itself (but no other overlap); a length mismatch panics.
//
// # Accuracy
//
// Over the whole float64 line, including subnormal arguments and results,
// each result is within
//
//	            kernels   math package's forms
//	Exp         1 ulp     1 ulp
//	Tanh        2 ulp     1 ulp
//	Sigmoid     2 ulp     2 ulp
//	Softplus    1 ulp     2 ulp
//
// of the correctly rounded value, where an ulp is the spacing of float64
// values at the result (so also of subnormals): at most 4.5·10⁻¹⁶ relative
// for normal results. The kernels run on amd64 with AVX2 and FMA; the math
// package's forms elsewhere (below). The bounds are what dense sweeps
// against a 300-bit reference measure (TestAccuracy, TestSpecialValues).
// Special values are exact: e^{−∞} = 0, e^{+∞} = +∞ and e^x = +∞ above
// 709.78 (where e^x overflows), tanh(±0) = ±0, tanh(±∞) = ±1, σ(+∞) = 1,
// σ(−∞) = 0, softplus(+∞) = +∞, softplus(−∞) = 0, and NaN gives NaN. Tanh
// is exactly ±1 for |x| ≥ 20, Sigmoid exactly 1 from x = 37 on and 0 from
// −746 down.
//
// # Method
//
// e^x: clamp x to [−746, 710] (beyond, the result is 0 or +∞ anyway),
// x = k ln 2 + r with k the integer nearest x/ln 2 (found by adding 1.5·2⁵²,
// which also leaves k in the sum's low bits) and ln 2 split in two so that
// r carries one rounding, |r| ≤ ln2/2; then e^r = 1 + r(1 + r P(r)) with P
// the Taylor polynomial to r¹¹/13! in Horner form with fused multiply-adds,
// and e^x = (e^r·2^⌊k/2⌋)·2^{k−⌊k/2⌋}: two normal powers of two, so that
// the result rounds once, to a subnormal too.
//
// tanh x = sign(x)·m/(m+2), m = e^{2|x|} − 1, with |x| clamped to 20
// (tanh rounds to 1 from 19.06); m = 2^k(e^r − 1) + (2^k − 1) in one fused
// multiply-add, e^r − 1 = r + r²P(r), which has no cancellation near 0.
//
// σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0, e = e^{−|x|}: no
// cancellation and no overflow. softplus(x) = max(x, 0) + log(1+e), e as
// for σ in [0, 1], with log(1+u) as in fdlibm's log1p: 1+u = 2^j(1+f) with
// f = u below ½ and f = (u−1)/2 above, both exact, and log(1+f) = f − f²/2
// + s(f²/2 + R(s²)), s = f/(2+f), R the series of 2 atanh s − 2s to s²¹.
//
// # Implementations
//
// On amd64 with AVX-512 the functions run in assembly on two interleaved
// vectors of 8 entries, with AVX2 and FMA on vectors of 4. The two give
// the same bits, those of the Go statement of the algorithm in scalar.go,
// which takes the assembly's operations in the same order with math.FMA
// where the assembly fuses (TestVectorMatchesScalar). Elsewhere (the
// purego build, other architectures, CPUs without AVX2 and FMA) each entry
// goes through the math package's forms: math.Exp, math.Tanh, 1/(1+e^{−x})
// (e/(1+e) for x < 0) and max(x, 0) + log1p(e^{−|x|}), as curvature/nn
// computed them before it used this package, so that those builds keep
// their results to the bit. Exp is the kernels' algorithm above 709.43,
// where math.Exp on amd64 returns +Inf before e^x overflows.
//
// Per entry, on one core of the AMD EPYC (AVX-512) these figures come from
// (CPU time of BenchmarkExp, BenchmarkExpMath and the like, 4,096 entries):
//
//	            AVX-512   AVX2     math package
//	Exp         0.95 ns   1.2 ns   7.9 ns
//	Tanh        0.98      1.4      12
//	Sigmoid     0.98      1.5      9.3
//	Softplus    2.2       3.9      25
//
// TanhBackward, SigmoidBackward and Add, one to three arithmetic
// operations an entry, run in AVX2 where there is AVX2 and FMA, and give
// the bits of their Go loops everywhere.
package vmath
