package firstorder

import "math"

// The element-wise loops of the two hottest updates (SGD with momentum, and
// Adam/AdamW without L2 decay or AMSGrad). Each has a
// pure-Go version here and, on amd64 with AVX2, an assembly version that
// computes the same IEEE operations in the same order, so both give identical
// bits (kernels_test.go checks this). Products are wrapped in float64() so
// that no platform fuses them into FMA instructions, keeping results the same
// on every architecture.

// sgdMomentumGo computes, element-wise,
//
//	b ← mom·b + c·g
//	x ← x + nlr·b
//
// torch's buf.mul_(momentum).add_(grad, alpha=1-dampening) followed by
// param.add_(buf, alpha=-lr), with c = 1-dampening and nlr = -lr.
func sgdMomentumGo(x, g, b []float64, mom, c, nlr float64) {
	g = g[:len(x)]
	b = b[:len(x)]
	for i := range x {
		bi := ema(b[i], mom, c, g[i])
		b[i] = bi
		x[i] += float64(nlr * bi)
	}
}

// adamCoef holds the per-step scalars of the Adam loop.
type adamCoef struct {
	b1, c1 float64 // β₁ and 1−β₁
	b2, c2 float64 // β₂ and 1−β₂
	decay  float64 // multiplies x before the update: 1−lr·λ for AdamW, 1 for Adam
	nstep  float64 // −lr/(1−β₁ᵗ)
	ibc2s  float64 // 1/√(1−β₂ᵗ)
	eps    float64
}

// adamGo computes, element-wise,
//
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + ((1−β₂)·g)·g
//	x ← decay·x + (nstep·m) / (√v · ibc2s + ε)
//
// in torch's order of operations (mul_/add_, addcmul_, sqrt(), add_(eps),
// addcdiv_) except that √v is multiplied by 1/√(1−β₂ᵗ) where torch divides by
// √(1−β₂ᵗ): one division fewer per element, the loop's bottleneck, for a
// difference of at most an ulp in the denominator.
func adamGo(x, g, m, v []float64, k *adamCoef) {
	g = g[:len(x)]
	m = m[:len(x)]
	v = v[:len(x)]
	for i := range x {
		gi := g[i]
		mi := ema(m[i], k.b1, k.c1, gi)
		vi := emaSq(v[i], k.b2, k.c2, gi)
		m[i] = mi
		v[i] = vi
		x[i] = float64(x[i]*k.decay) + float64(k.nstep*mi)/(float64(math.Sqrt(vi)*k.ibc2s)+k.eps)
	}
}
