package secondorder

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

type namedSolver struct {
	name string
	new  func() SubproblemSolver
}

func allSolvers() []namedSolver {
	return []namedSolver{
		{"cauchy", func() SubproblemSolver { return &Cauchy{} }},
		{"dogleg-cholesky", func() SubproblemSolver { return &Dogleg{} }},
		{"dogleg-cg", func() SubproblemSolver { return &Dogleg{Linear: Linear{Method: CGLinear}} }},
		{"steihaug", func() SubproblemSolver { return &Steihaug{} }},
		{"steihaug-tight", func() SubproblemSolver { return &Steihaug{Tol: 1e-12} }},
		{"exact", func() SubproblemSolver { return &Exact{} }},
	}
}

// TestExactMatchesBruteForce compares the exact solver's model value with
// projected-gradient minimisation of the model on the ball, and checks
// every other solver lies between the global minimum and the Cauchy value.
func TestSubproblemAgainstBruteForce(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 60; trial++ {
		n := 2 + trial%2
		a := randSym(n, 1+3*rnd.Float64(), rnd)
		g := randVec(n, rnd)
		floats.Scale(math.Pow(10, 2*rnd.Float64()-1), g)
		delta := math.Pow(10, 2*rnd.Float64()-1)
		best, _ := bruteForceModelMin(a, g, delta, rnd)
		op := curvature.NewDense(a)

		cp := make([]float64, n)
		_, err := (&Cauchy{}).Solve(cp, op, g, delta)
		require.NoError(t, err)
		cauchyVal := modelValue(a, g, cp)

		for _, s := range allSolvers() {
			p := make([]float64, n)
			info, err := s.new().Solve(p, op, g, delta)
			require.NoError(t, err, "%s trial %d", s.name, trial)
			val := modelValue(a, g, p)
			scale := math.Max(1, math.Abs(best))
			name := fmt.Sprintf("%s trial %d (n=%d Δ=%.3g)", s.name, trial, n, delta)
			assert.LessOrEqual(t, floats.Norm(p, 2), delta*(1+1e-12), name)
			assert.GreaterOrEqual(t, val, best-1e-9*scale, name+": below the global minimum")
			assert.LessOrEqual(t, val, cauchyVal+1e-10*scale, name+": worse than Cauchy")
			assert.InDelta(t, -val, info.Decrease, 1e-10*scale, name+": reported decrease")
			if s.name == "exact" {
				assert.InDelta(t, best, val, 1e-7*scale, name)
			}
		}
	}
}

// TestExactHardCase builds g orthogonal to the bottom eigenvector so that
// the secular equation has no root, and compares with the closed form
// p = −(M − λ₁I)⁺g ± τq₁.
func TestExactHardCase(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 1))
	for _, tc := range []struct {
		name  string
		vals  []float64
		delta float64
	}{
		{"2d", []float64{-2, 3}, 1},
		{"3d", []float64{-1, 0.5, 4}, 2},
		{"3d-double-bottom", []float64{-1, -1, 2}, 1.5},
		{"3d-all-negative", []float64{-3, -2, -1}, 0.7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.vals)
			a, q := symFromEig(tc.vals, rnd)
			// ĝ has zero components on the bottom eigenspace and is small
			// enough that −(Λ − λ₁)⁺ĝ lies inside.
			k := 0
			for k < n && tc.vals[k] == tc.vals[0] {
				k++
			}
			gh := make([]float64, n)
			for i := k; i < n; i++ {
				gh[i] = 0.3 * (tc.vals[i] - tc.vals[0]) * tc.delta / math.Sqrt(float64(n))
			}
			g := make([]float64, n)
			mat.NewVecDense(n, g).MulVec(q, mat.NewVecDense(n, gh))
			// Closed form: y_i = −ĝ_i/(λ_i − λ₁), the rest along q₁.
			y := make([]float64, n)
			for i := k; i < n; i++ {
				y[i] = -gh[i] / (tc.vals[i] - tc.vals[0])
			}
			tau := math.Sqrt(tc.delta*tc.delta - floats.Dot(y, y))
			wantVal := 0.0
			for i := range y {
				wantVal += gh[i]*y[i] + 0.5*tc.vals[i]*y[i]*y[i]
			}
			wantVal += 0.5 * tc.vals[0] * tau * tau

			p := make([]float64, n)
			info, err := (&Exact{}).Solve(p, curvature.NewDense(a), g, tc.delta)
			require.NoError(t, err)
			assert.True(t, info.HardCase)
			assert.True(t, info.Boundary)
			assert.InDelta(t, -tc.vals[0], info.Lambda, 1e-10)
			assert.InDelta(t, tc.delta, floats.Norm(p, 2), 1e-10)
			assert.InDelta(t, wantVal, modelValue(a, g, p), 1e-10)
			// The component outside the bottom eigenspace is the closed form.
			ph := make([]float64, n)
			mat.NewVecDense(n, ph).MulVec(q.T(), mat.NewVecDense(n, p))
			for i := k; i < n; i++ {
				assert.InDelta(t, y[i], ph[i], 1e-10, "component %d", i)
			}
			best, _ := bruteForceModelMin(a, g, tc.delta, rnd)
			assert.InDelta(t, best, modelValue(a, g, p), 1e-7)
		})
	}
}
