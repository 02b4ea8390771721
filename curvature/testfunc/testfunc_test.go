package testfunc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// TestRosenbrockHessian compares the Hessian with central differences of
// gonum's gradient, at random points and at the minimiser.
func TestRosenbrockHessian(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 1))
	f := ExtendedRosenbrock{}
	for _, tc := range []struct {
		name string
		x    []float64
	}{
		{"1-d", []float64{0.7}},
		{"2-d classic start", []float64{-1.2, 1}},
		{"3-d random", []float64{rnd.NormFloat64(), rnd.NormFloat64(), rnd.NormFloat64()}},
		{"5-d SciPy start", []float64{1.3, 0.7, 0.8, 1.9, 1.2}},
		{"5-d minimiser", []float64{1, 1, 1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.x)
			got := mat.NewSymDense(n, nil)
			for i := 0; i < n; i++ {
				for j := i; j < n; j++ {
					got.SetSym(i, j, math.NaN()) // Hess must overwrite all
				}
			}
			f.Hess(got, tc.x)
			want := mat.NewDense(n, n, nil)
			fd.Jacobian(want, f.Grad, tc.x, &fd.JacobianSettings{Formula: fd.Central})
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					w := want.At(i, j)
					assert.InDelta(t, w, got.At(i, j), 1e-5*math.Max(1, math.Abs(w)), "(%d, %d)", i, j)
				}
			}
		})
	}
}

func TestRosenbrockProblem(t *testing.T) {
	p := ExtendedRosenbrock{}.Problem()
	x := []float64{1.3, 0.7, 0.8, 1.9, 1.2}
	// 848.22 is the value SciPy's rosen gives at its tutorial start.
	assert.InDelta(t, 848.22, p.Func(x), 1e-9)
	h := mat.NewSymDense(5, nil)
	p.Hess(h, x)
	// H_00 = 1200·1.69 − 400·0.7 + 2, H_01 = −400·1.3, H_44 = 200.
	assert.InDelta(t, 1750, h.At(0, 0), 1e-9)
	assert.InDelta(t, -520, h.At(0, 1), 1e-12)
	assert.InDelta(t, 200, h.At(4, 4), 1e-12)
	assert.Panics(t, func() { p.Hess(mat.NewSymDense(4, nil), x) })
}
