package symeig

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// FuzzDecompose feeds symmetric matrices of arbitrary order, scale and
// sparsity: Decompose must not panic, must refuse non-finite entries, and
// otherwise must agree with gonum's EigenSym and the definition
// (checkDecomposition).
func FuzzDecompose(f *testing.F) {
	f.Add(uint8(5), uint64(1), 1.0, uint8(0), false)
	f.Add(uint8(70), uint64(2), 1e-12, uint8(3), false)
	f.Add(uint8(33), uint64(3), 1e150, uint8(1), false)
	f.Add(uint8(9), uint64(4), 1.0, uint8(0), true)
	f.Fuzz(func(t *testing.T, size uint8, seed uint64, scale float64, sparsity uint8, nan bool) {
		n := int(size)%90 + 1
		if math.IsNaN(scale) || math.IsInf(scale, 0) || math.Abs(scale) > 1e200 || math.Abs(scale) < 1e-200 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 0))
		a := mat.NewSymDense(n, nil)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				if sparsity > 0 && rng.IntN(int(sparsity)+1) != 0 {
					continue
				}
				a.SetSym(i, j, scale*rng.NormFloat64())
			}
		}
		if nan {
			a.SetSym(rng.IntN(n), rng.IntN(n), math.NaN())
			if _, _, err := Decompose(a); err == nil {
				t.Fatal("NaN accepted")
			}
			return
		}
		checkDecomposition(t, a)
	})
}
