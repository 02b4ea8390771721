package testfunc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/functions"
)

// TestSetHessians compares every instance's Hessian — this package's and
// the ones gonum provides — with central differences of gonum's gradient,
// at the starting point and at three random points near it.
func TestSetHessians(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	set := MoreGarbowHillstrom()
	require.Len(t, set, 25)
	seen := map[string]bool{}
	for _, in := range set {
		assert.False(t, seen[in.Name], "duplicate %s", in.Name)
		seen[in.Name] = true
		t.Run(in.Name, func(t *testing.T) {
			n := in.Dim()
			points := [][]float64{in.X0}
			for k := 0; k < 3; k++ {
				x := append([]float64(nil), in.X0...)
				for i := range x {
					x[i] += 0.1 * rnd.NormFloat64()
				}
				points = append(points, x)
			}
			for k, x := range points {
				got := mat.NewSymDense(n, nil)
				for i := 0; i < n; i++ {
					for j := i; j < n; j++ {
						got.SetSym(i, j, math.NaN()) // Hess must overwrite all
					}
				}
				in.Function.Hess(got, x)
				want := mat.NewDense(n, n, nil)
				fd.Jacobian(want, in.Function.Grad, x, &fd.JacobianSettings{Formula: fd.Central})
				scale := mat.Norm(want, math.Inf(1))
				g := make([]float64, n)
				in.Function.Grad(g, x)
				// Central differences with gonum's step h = 6e-6 are
				// accurate to O(h²) relative to the Hessian's scale, plus
				// the gradient's rounding magnified by 1/h.
				noise := 10 * 0x1p-52 * floats.Norm(g, math.Inf(1)) / 6e-6
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						w := want.At(i, j)
						if !assert.InDelta(t, w, got.At(i, j), 1e-6*(math.Abs(w)+scale)+noise+1e-9, "point %d, (%d, %d)", k, i, j) {
							return
						}
					}
				}
			}
		})
	}
}

// TestGonumBealeHessian documents why Beale is replaced: at the minimiser
// (3, 1/2), where the residuals vanish, the Hessian is 2JᵀJ with
// J_k = (−(1 − b^k), k·a·b^(k−1)), whose off-diagonal entry is
// −2(0.5·3 + 0.75·3 + 0.875·2.25) = −11.4375; gonum v0.17.0 gives −1.906.
func TestGonumBealeHessian(t *testing.T) {
	x := []float64{3, 0.5}
	ours := mat.NewSymDense(2, nil)
	Beale{}.Hess(ours, x)
	assert.InDelta(t, -11.4375, ours.At(0, 1), 1e-12)
	assert.InDelta(t, 2*(0.25+0.5625+0.765625), ours.At(0, 0), 1e-12)
	theirs := mat.NewSymDense(2, nil)
	functions.Beale{}.Hess(theirs, x)
	assert.Greater(t, math.Abs(theirs.At(0, 1)-ours.At(0, 1)), 9.0, "gonum's Beale Hessian was fixed: use it")
}

// TestSetStarts checks the starting points against the values of f gonum's
// documentation and Moré, Garbow & Hillstrom give there, and that every
// function has its minimum where gonum lists one.
func TestSetStarts(t *testing.T) {
	for _, tc := range []struct {
		name string
		f0   float64 // f(x₀), Moré, Garbow & Hillstrom (1981), or computed in closed form
	}{
		{"Beale", 14.203125},               // 0.25² + 1.25² + 1.625²
		{"BrownBadlyScaled", 999998000003}, // (1 − 10⁶)² + (1 − 2·10⁻⁶)² + 1
		{"ExtendedRosenbrock-2", 24.2},
		{"HelicalValley", 2500},
		{"Wood", 19192},
		{"ExtendedPowellSingular-4", 2*(3-10)*(3-10)/2 + 5*9 + 1 + 0}, // (3 − 10)² + 5·9 + 1⁴ + 10·0⁴
		{"VariablyDimensioned-10", 0},
	} {
		for _, in := range MoreGarbowHillstrom() {
			if in.Name != tc.name {
				continue
			}
			if tc.f0 == 0 {
				// VariablyDimensioned: Σ(x_i − 1)² = Σ(i/n)², s = −Σ i²/n.
				n := float64(in.Dim())
				var sq, s float64
				for i := 1; i <= in.Dim(); i++ {
					sq += float64(i*i) / (n * n)
					s -= float64(i*i) / n
				}
				tc.f0 = sq + s*s + s*s*s*s
			}
			assert.InDelta(t, tc.f0, in.Function.Func(in.X0), 1e-12*tc.f0, tc.name)
		}
	}
	for _, in := range MoreGarbowHillstrom() {
		mins, ok := in.Function.(interface{ Minima() []functions.Minimum })
		if !ok {
			continue
		}
		for _, m := range mins.Minima() {
			if len(m.X) != in.Dim() || m.F != 0 {
				continue
			}
			g := make([]float64, in.Dim())
			in.Function.Grad(g, m.X)
			assert.Less(t, floats.Norm(g, math.Inf(1)), 1e-6, "%s: gradient at a listed minimum", in.Name)
		}
	}
}
