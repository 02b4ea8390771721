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
	"github.com/curvkit/curvkit/internal/randmat"
)

// tightGLTR solves subproblems to about 1e-12 in its residual test.
func tightGLTR() *GLTR { return &GLTR{InteriorTol: 1e-12, BoundaryTol: 1e-12} }

// TestGLTRMatchesExact: with tight tolerances GLTR's subspace grows until
// it holds the solution, which it then finds to rounding: the tight exact
// solver's model value, on random definite and indefinite problems
// (outside the hard case, which a random g avoids), whatever the radius.
func TestGLTRMatchesExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 1))
	for trial := 0; trial < 60; trial++ {
		n := 2 + trial%7
		var a *mat.SymDense
		if trial%2 == 0 {
			a = randSym(n, 1+3*rnd.Float64(), rnd)
		} else {
			a = randSPD(n, -1, 2, rnd)
		}
		g := randmat.Vec(rnd, n)
		delta := math.Pow(10, 3*rnd.Float64()-1.5)
		op := curvature.NewDense(a)
		p, q := make([]float64, n), make([]float64, n)
		info, err := tightGLTR().Solve(p, op, g, delta)
		require.NoError(t, err)
		want, err := tightExact().Solve(q, op, g, delta)
		require.NoError(t, err)
		name := fmt.Sprintf("trial %d (n=%d Δ=%.3g)", trial, n, delta)
		scale := math.Max(1, math.Abs(want.Decrease))
		assert.InDelta(t, want.Decrease, info.Decrease, 1e-8*scale, name)
		assert.InDelta(t, -modelValue(a, g, p), info.Decrease, 1e-10*scale, name+": reported decrease")
		assert.LessOrEqual(t, floats.Norm(p, 2), delta*(1+1e-12), name)
		assert.InDelta(t, floats.Norm(p, 2), info.Norm, 1e-12*delta, name+": reported norm")
		assert.Equal(t, want.Boundary, info.Boundary, name)
		if info.Boundary {
			assert.InDelta(t, want.Lambda, info.Lambda, 1e-6*math.Max(1, want.Lambda), name+": multiplier")
		}
		assert.LessOrEqual(t, info.Products, n+1, name+": at most n Lanczos products and one for the decrease")
	}
}

// TestGLTRInteriorIsCG: while the Lanczos subproblem's minimiser is
// interior, GLTR's iterate is the conjugate-gradient iterate; with a large
// radius, positive definite M and the same relative tolerance, its step is
// Steihaug's (CG's) to rounding.
func TestGLTRInteriorIsCG(t *testing.T) {
	rnd := rand.New(rand.NewPCG(32, 1))
	for trial := 0; trial < 20; trial++ {
		n := 3 + trial%8
		a := randSPD(n, 0, 2, rnd)
		g := randmat.Vec(rnd, n)
		tol := []float64{0.5, 0.1, 1e-3}[trial%3]
		p, q := make([]float64, n), make([]float64, n)
		info, err := (&GLTR{InteriorTol: tol}).Solve(p, curvature.NewDense(a), g, 1e6)
		require.NoError(t, err)
		want, err := (&Steihaug{Tol: tol}).Solve(q, curvature.NewDense(a), g, 1e6)
		require.NoError(t, err)
		assert.False(t, info.Boundary)
		assert.Equal(t, want.Iterations, info.Iterations, "trial %d", trial)
		assert.InDeltaSlice(t, q, p, 1e-9*floats.Norm(q, 2), "trial %d", trial)
	}
}

// TestGLTRSolveAgain: after a rejected step the trust region asks GLTR to
// solve again with a smaller radius; it re-solves the kept tridiagonal
// problem, taking no more products than it must, and gives a fresh
// solve's step.
func TestGLTRSolveAgain(t *testing.T) {
	rnd := rand.New(rand.NewPCG(34, 1))
	for trial := 0; trial < 20; trial++ {
		n := 4 + trial%6
		a := randSym(n, 1, rnd)
		g := randmat.Vec(rnd, n)
		op := curvature.NewDense(a)
		gl := tightGLTR()
		p, q := make([]float64, n), make([]float64, n)
		first, err := gl.Solve(p, op, g, 1)
		require.NoError(t, err)
		again, err := gl.solveAgain(p, op, g, 0.25)
		require.NoError(t, err)
		fresh, err := tightGLTR().Solve(q, op, g, 0.25)
		require.NoError(t, err)
		assert.InDeltaSlice(t, q, p, 1e-8, "trial %d", trial)
		assert.InDelta(t, fresh.Decrease, again.Decrease, 1e-10*math.Max(1, fresh.Decrease))
		// The products of the subspace already built are not repeated.
		assert.LessOrEqual(t, again.Products, fresh.Products-first.Iterations+1+1, "trial %d", trial)
	}
}

// TestTriTRS compares the tridiagonal solver with the tight exact solver
// on the same matrix, dense.
func TestTriTRS(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 1))
	for trial := 0; trial < 50; trial++ {
		k := 1 + trial%9
		d := randmat.Vec(rnd, k)
		e := make([]float64, k) // e[0] unused
		for i := 1; i < k; i++ {
			e[i] = rnd.NormFloat64()
		}
		a := mat.NewSymDense(k, nil)
		for i := 0; i < k; i++ {
			a.SetSym(i, i, d[i])
			if i > 0 {
				a.SetSym(i-1, i, e[i])
			}
		}
		g0 := math.Pow(10, 2*rnd.Float64()-1)
		delta := math.Pow(10, 2*rnd.Float64()-1)
		var tr triTRS
		res := tr.solve(d, e, g0, delta)
		g := make([]float64, k)
		g[0] = g0
		q := make([]float64, k)
		want, err := tightExact().Solve(q, curvature.NewDense(a), g, delta)
		require.NoError(t, err)
		got := modelValue(a, g, res.h)
		assert.InDelta(t, -want.Decrease, got, 1e-9*math.Max(1, want.Decrease), "trial %d", trial)
		assert.LessOrEqual(t, floats.Norm(res.h, 2), delta*(1+1e-12))
		var eig mat.EigenSym
		require.True(t, eig.Factorize(a, false))
		assert.InDelta(t, eig.Values(nil)[0], tr.bottom(d, e), 1e-12*math.Max(1, mat.Norm(a, 1)), "trial %d: λ_min", trial)
	}
}

func TestGLTRBadSettings(t *testing.T) {
	op := curvature.NewDense(mat.NewSymDense(2, []float64{2, 0, 0, 1}))
	p := make([]float64, 2)
	for _, gl := range []*GLTR{
		{InteriorTol: -1}, {InteriorTol: 1}, {BoundaryTol: math.NaN()},
		{MaxIterations: -1}, {PreconditionerDamping: -1},
	} {
		_, err := gl.Solve(p, op, []float64{1, 1}, 1)
		var se *SettingError
		assert.ErrorAs(t, err, &se)
		assert.ErrorAs(t, (&TrustRegion{Solver: gl}).Validate(), &se)
	}
	// A preconditioner that is not positive definite is an error; one of
	// another dimension a panic.
	_, err := (&GLTR{Preconditioner: mustDiagonal(t, 1, -1)}).Solve(p, op, []float64{0, 1}, 1)
	assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
	_, err = (&GLTR{Preconditioner: mustDiagonal(t, 1, 0)}).Solve(p, op, []float64{0, 1}, 1)
	assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
	assert.Panics(t, func() { _, _ = (&GLTR{Preconditioner: mustDiagonal(t, 1, 1, 1)}).Solve(p, op, []float64{0, 1}, 1) })
	// A budget for one Lanczos vector: the Cauchy point, on the subspace
	// of g alone.
	c := make([]float64, 2)
	_, err = (&GLTR{Budget: 2}).Solve(p, op, []float64{1, 1}, 10)
	require.NoError(t, err)
	_, err = (&Cauchy{}).Solve(c, op, []float64{1, 1}, 10)
	require.NoError(t, err)
	assert.InDeltaSlice(t, c, p, 1e-15)
}
