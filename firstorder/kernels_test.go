package firstorder

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// kernelInputs returns vectors of length n with a mix of magnitudes, signs,
// zeros and subnormals, as the kernels meet them.
func kernelInputs(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch rnd.IntN(8) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = rnd.NormFloat64() * 1e-310 // subnormal
		case 2:
			v[i] = rnd.NormFloat64() * 1e150
		default:
			v[i] = rnd.NormFloat64() * math.Pow(10, float64(rnd.IntN(13)-6))
		}
	}
	return v
}

// TestKernelsMatchGo checks that the dispatched kernels (assembly where the
// CPU allows) give exactly the bits of the Go loops, for lengths that
// exercise every block size and remainder.
func TestKernelsMatchGo(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	for n := range 70 {
		x, g := kernelInputs(rnd, n), kernelInputs(rnd, n)
		b, v := kernelInputs(rnd, n), kernelInputs(rnd, n)
		for i := range v {
			v[i] = math.Abs(v[i]) // a second moment
		}

		x1, b1 := slices.Clone(x), slices.Clone(b)
		x2, b2 := slices.Clone(x), slices.Clone(b)
		sgdMomentum(x1, g, b1, 0.9, 0.7, -1e-3)
		sgdMomentumGo(x2, g, b2, 0.9, 0.7, -1e-3)
		if !sameBits(x1, x2) || !sameBits(b1, b2) {
			t.Errorf("n=%d: sgdMomentum differs from sgdMomentumGo", n)
		}

		k := adamCoef{b1: 0.9, c1: 0.1, b2: 0.999, c2: 1 - 0.999, decay: 0.99, nstep: -1e-3 / 0.19, ibc2s: 1 / math.Sqrt(0.002), eps: 1e-8}
		x1, m1, v1 := slices.Clone(x), slices.Clone(b), slices.Clone(v)
		x2, m2, v2 := slices.Clone(x), slices.Clone(b), slices.Clone(v)
		adam(x1, g, m1, v1, &k)
		adamGo(x2, g, m2, v2, &k)
		if !sameBits(x1, x2) || !sameBits(m1, m2) || !sameBits(v1, v2) {
			t.Errorf("n=%d: adam differs from adamGo", n)
		}

	}
}

func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}
