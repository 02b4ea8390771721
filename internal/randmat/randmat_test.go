package randmat

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Q is orthogonal and A Q = Q diag(vals), to rounding.
func TestSymFromEig(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	vals := []float64{-3, 0, 0.5, 2, 7}
	a, q := SymFromEig(rnd, vals)
	var qtq, aq, ql mat.Dense
	qtq.Mul(q.T(), q)
	for i := range vals {
		qtq.Set(i, i, qtq.At(i, i)-1)
	}
	if r := mat.Norm(&qtq, 2); r > 1e-14 {
		t.Fatalf("‖QᵀQ − I‖ = %g", r)
	}
	aq.Mul(a, q)
	ql.Mul(q, mat.NewDiagDense(len(vals), vals))
	aq.Sub(&aq, &ql)
	if r := mat.Norm(&aq, 2); r > 1e-13*7 || math.IsNaN(r) {
		t.Fatalf("‖AQ − QΛ‖ = %g", r)
	}
}

// Vec draws what the same generator's NormFloat64 gives, in order, so that
// a test that draws its vectors with Vec sees the numbers it saw drawing
// them itself.
func TestVec(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		got := Vec(rand.New(rand.NewPCG(3, 4)), n)
		ref := rand.New(rand.NewPCG(3, 4))
		if len(got) != n {
			t.Fatalf("n = %d: length %d", n, len(got))
		}
		for i, v := range got {
			if want := ref.NormFloat64(); v != want {
				t.Errorf("n = %d: entry %d is %v, want %v", n, i, v, want)
			}
		}
	}
}
