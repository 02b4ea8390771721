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

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/randmat"
	"github.com/curvkit/curvkit/internal/vec"
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
		{"gltr", func() SubproblemSolver { return &GLTR{} }},
		{"gltr-tight", func() SubproblemSolver { return tightGLTR() }},
		{"exact", func() SubproblemSolver { return tightExact() }},
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
		g := randmat.Vec(rnd, n)
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
			a, q := randmat.SymFromEig(rnd, tc.vals)
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
			info, err := tightExact().Solve(p, curvature.NewDense(a), g, tc.delta)
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

// TestPreconditionedSolvers checks the preconditioned iterations against
// their definition: with P̃ = D + μI diagonal (D the preconditioner, μ its
// damping), Steihaug–Toint and GLTR on (M, g, ‖·‖_P̃) are the plain
// solvers on M̂ = P̃^{-1/2}MP̃^{-1/2}, ĝ = P̃^{-1/2}g mapped back by
// p = P̃^{-1/2}y, iterate for iterate.
func TestPreconditionedSolvers(t *testing.T) {
	for _, s := range []struct {
		name string
		new  func(pre curvature.DampedSolver, mu float64) SubproblemSolver
		tol  float64
	}{
		{"steihaug", func(pre curvature.DampedSolver, mu float64) SubproblemSolver {
			return &Steihaug{Preconditioner: pre, PreconditionerDamping: mu, Tol: 1e-8}
		}, 1e-9},
		{"gltr", func(pre curvature.DampedSolver, mu float64) SubproblemSolver {
			return &GLTR{Preconditioner: pre, PreconditionerDamping: mu, InteriorTol: 1e-10, BoundaryTol: 1e-10}
		}, 1e-8},
	} {
		rnd := rand.New(rand.NewPCG(5, 1))
		for trial := 0; trial < 40; trial++ {
			n := 2 + trial%4
			var a *mat.SymDense
			if trial%2 == 0 {
				a = randSPD(n, -1, 1, rnd)
			} else {
				a = randSym(n, 2, rnd)
			}
			d := make([]float64, n)
			for i := range d {
				d[i] = math.Pow(10, 2*rnd.Float64()-1)
			}
			g := randmat.Vec(rnd, n)
			delta := math.Pow(10, 2*rnd.Float64()-1.5)
			mu := []float64{0, 0.7}[(trial/2)%2]
			name := fmt.Sprintf("%s trial %d", s.name, trial)

			p := make([]float64, n)
			info, err := s.new(mustDiagonal(t, d...), mu).Solve(p, curvature.NewDense(a), g, delta)
			require.NoError(t, err, name)

			dt := make([]float64, n) // the diagonal of P̃
			for i := range dt {
				dt[i] = d[i] + mu
			}
			ah, gh := diagonalScaling(a, g, dt)
			y := make([]float64, n)
			want, err := s.new(nil, 0).Solve(y, curvature.NewDense(ah), gh, delta)
			require.NoError(t, err, name)
			pNorm := checkScaledBack(t, p, y, dt, s.tol, name)
			assert.LessOrEqual(t, pNorm, delta*(1+1e-10), name)
			assert.InDelta(t, pNorm, info.Norm, 1e-9*delta, name+": reported P-norm")
			assert.Equal(t, want.Boundary, info.Boundary, name)
			assert.Equal(t, want.NegativeCurvature, info.NegativeCurvature, name)
			assert.InDelta(t, -modelValue(a, g, p), info.Decrease, 1e-9*(1+math.Abs(info.Decrease)), name)
		}
	}
}

// TestSteihaugExactPreconditioner: with P = M, preconditioned CG solves an
// interior problem in one iteration. A preconditioner that is not positive
// definite is reported.
func TestSteihaugExactPreconditioner(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 1))
	a, _ := randmat.SymFromEig(rnd, []float64{0.01, 0.3, 5, 80})
	g := randmat.Vec(rnd, 4)
	pre, err := approx.NewSymMatrix(a, 0)
	require.NoError(t, err)
	p := make([]float64, 4)
	info, err := (&Steihaug{Preconditioner: pre, Tol: 1e-12}).Solve(p, curvature.NewDense(a), g, 1e6)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Iterations)
	assert.Equal(t, 1, info.Products)
	want := newtonBySolve(t, a, 0, g)
	for i := range p {
		assert.InDelta(t, want[i], p[i], 1e-9*math.Abs(want[i])+1e-12)
	}

	indef, err := approx.NewSymMatrix(randSymIndefinite(rnd), 0)
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		s    *Steihaug
	}{
		{"indefinite", &Steihaug{Preconditioner: indef}},
		{"singular-diagonal", &Steihaug{Preconditioner: mustDiagonal(t, 1, 0, 2)}},
		{"negative-damping", &Steihaug{Preconditioner: mustDiagonal(t, 1, 1, 2), PreconditionerDamping: -1}},
	} {
		p := make([]float64, 3)
		_, err := c.s.Solve(p, curvature.NewDense(a.SliceSym(0, 3)), g[:3], 1)
		assert.Error(t, err, c.name)
		if c.s.PreconditionerDamping == 0 {
			assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite, c.name)
		}
	}
}

func randSymIndefinite(rnd *rand.Rand) *mat.SymDense {
	a, _ := randmat.SymFromEig(rnd, []float64{-1, 2, 3})
	return a
}

// newtonBySolve returns −(A + λI)⁻¹g by an LU solve, independent of the
// Cholesky and CG code under test.
func newtonBySolve(t *testing.T, a mat.Symmetric, lambda float64, g []float64) []float64 {
	n := len(g)
	full := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			full.Set(i, j, a.At(i, j))
		}
		full.Set(i, i, full.At(i, i)+lambda)
	}
	var x mat.VecDense
	require.NoError(t, x.SolveVec(full, mat.NewVecDense(n, g)))
	out := make([]float64, n)
	for i := range out {
		out[i] = -x.AtVec(i)
	}
	return out
}

func TestSteihaugNegativeCurvatureFirstDirection(t *testing.T) {
	// gᵀMg < 0: the first CG direction −g already has negative curvature,
	// so the step runs along −g to the boundary.
	a := mat.NewSymDense(2, []float64{-1, 0, 0, 0.1})
	g := []float64{1, 1}
	p := make([]float64, 2)
	info, err := (&Steihaug{}).Solve(p, curvature.NewDense(a), g, 0.5)
	require.NoError(t, err)
	assert.True(t, info.NegativeCurvature)
	assert.True(t, info.Boundary)
	assert.InDeltaSlice(t, []float64{-0.5 / math.Sqrt2, -0.5 / math.Sqrt2}, p, 1e-15)
}

func TestDogleg(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 1))
	a, _ := randmat.SymFromEig(rnd, []float64{0.5, 2, 7})
	g := randmat.Vec(rnd, 3)
	newton := newtonBySolve(t, a, 0, g)
	nb := floats.Norm(newton, 2)
	for _, tc := range []struct {
		name string
		op   curvature.Operator
	}{{"dense", curvature.NewDense(a)}, {"matrix-free", hidden{curvature.NewDense(a)}}} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]float64, 3)
			// Inside: the Newton step itself.
			info, err := (&Dogleg{}).Solve(p, tc.op, g, 2*nb)
			require.NoError(t, err)
			assert.False(t, info.Boundary)
			assert.InDeltaSlice(t, newton, p, 1e-8)
			// On the boundary, between p_U and p_B.
			gMg := modelValue(a, make([]float64, 3), g) * 2
			pu := make([]float64, 3)
			floats.ScaleTo(pu, -floats.Dot(g, g)/gMg, g)
			delta := 0.5 * (floats.Norm(pu, 2) + nb)
			if delta <= floats.Norm(pu, 2) {
				t.Skip("p_U outside the Newton step's ball")
			}
			info, err = (&Dogleg{}).Solve(p, tc.op, g, delta)
			require.NoError(t, err)
			assert.True(t, info.Boundary)
			assert.InDelta(t, delta, floats.Norm(p, 2), 1e-12)
			// p − p_U is parallel to p_B − p_U.
			u, v := make([]float64, 3), make([]float64, 3)
			floats.SubTo(u, p, pu)
			floats.SubTo(v, newton, pu)
			cos := floats.Dot(u, v) / (floats.Norm(u, 2) * floats.Norm(v, 2))
			assert.InDelta(t, 1, cos, 1e-8)
		})
	}
	// Indefinite M = diag(1, −1): the factorisation fails and Dogleg
	// follows the path of M + λI, λ just above 1. With g = (1, 0.1) and
	// Δ = 2 the path leaves along the negative curvature, far below the
	// Cauchy point's model value.
	ind := mat.NewSymDense(2, []float64{1, 0, 0, -1})
	for _, tc := range []struct {
		name     string
		g        []float64
		delta    float64
		fallback bool
	}{
		{"shifted path", []float64{1, 0.1}, 2, false},
		// g along the positive eigenvector: the shifted Newton step
		// −g/(1 + λ) is shorter than the Cauchy point −g, which wins.
		{"cauchy point", []float64{1, 0}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := make([]float64, 2), make([]float64, 2)
			info, err := (&Dogleg{}).Solve(p, curvature.NewDense(ind), tc.g, tc.delta)
			require.NoError(t, err)
			assert.True(t, info.NegativeCurvature)
			assert.Greater(t, info.Lambda, 1.0, "M + λI positive definite")
			assert.Less(t, info.Lambda, 1.01, "λ just above −λ_min")
			_, err = (&Cauchy{}).Solve(c, curvature.NewDense(ind), tc.g, tc.delta)
			require.NoError(t, err)
			assert.Equal(t, tc.fallback, info.Fallback)
			assert.InDelta(t, -modelValue(ind, tc.g, p), info.Decrease, 1e-14)
			if tc.fallback {
				assert.Equal(t, c, p)
				return
			}
			assert.Less(t, modelValue(ind, tc.g, p), modelValue(ind, tc.g, c)-1)
			// p is where the dogleg path of M + λI leaves the ball: on the
			// segment from p_U = −(gᵀg/gᵀ(M + λI)g)g to p_B = −(M + λI)⁻¹g.
			shifted := mat.NewSymDense(2, []float64{1 + info.Lambda, 0, 0, -1 + info.Lambda})
			pb := newtonBySolve(t, shifted, 0, tc.g)
			pu := make([]float64, 2)
			floats.ScaleTo(pu, -floats.Dot(tc.g, tc.g)/(2*modelValue(shifted, make([]float64, 2), tc.g)), tc.g)
			assert.InDelta(t, tc.delta, floats.Norm(p, 2), 1e-12)
			u, v := make([]float64, 2), make([]float64, 2)
			floats.SubTo(u, p, pu)
			floats.SubTo(v, pb, pu)
			assert.InDelta(t, 1, floats.Dot(u, v)/(floats.Norm(u, 2)*floats.Norm(v, 2)), 1e-10)
		})
	}
}

// TestExactMatrixFree: Exact materialises a matrix-free M with n products
// and then solves as it does the dense matrix; it notices a changed
// matrix; a budget too small for M is an error.
func TestExactMatrixFree(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 1))
	a := randSym(4, 1, rnd)
	g := randmat.Vec(rnd, 4)
	e := &Exact{}
	p1, p2 := make([]float64, 4), make([]float64, 4)
	info, err := e.Solve(p1, curvature.NewDense(a), g, 1)
	require.NoError(t, err)
	assert.Positive(t, info.Factorizations)
	assert.Zero(t, info.Products)
	info, err = (&Exact{}).Solve(p2, hidden{curvature.NewDense(a)}, g, 1)
	require.NoError(t, err)
	assert.Equal(t, 4, info.Products)
	assert.Equal(t, p1, p2)
	// A changed matrix is noticed: the solve equals a fresh solver's.
	a.SetSym(0, 0, a.At(0, 0)+1)
	_, err = e.Solve(p1, curvature.NewDense(a), g, 1)
	require.NoError(t, err)
	_, err = (&Exact{}).Solve(p2, curvature.NewDense(a), g, 1)
	require.NoError(t, err)
	assert.Equal(t, p2, p1)
	// A budget too small for the matrix-free operator.
	_, err = (&Exact{Budget: 10}).Solve(p2, hidden{curvature.NewDense(a)}, g, 1)
	var be *curvature.BudgetError
	assert.ErrorAs(t, err, &be)
}

func TestSubproblemBadInput(t *testing.T) {
	a := curvature.NewDense(mat.NewSymDense(2, []float64{2, 0, 0, 1}))
	p := make([]float64, 2)
	for _, s := range allSolvers() {
		for _, r := range []float64{0, -1, math.NaN(), math.Inf(1)} {
			_, err := s.new().Solve(p, a, []float64{1, 1}, r)
			var se *SettingError
			assert.ErrorAs(t, err, &se, "%s radius %v", s.name, r)
		}
		_, err := s.new().Solve(p, a, []float64{math.NaN(), 1}, 1)
		assert.ErrorIs(t, err, curvature.ErrNonFinite, s.name)
		// A zero gradient with positive definite M: the zero step.
		p := []float64{3, 3}
		info, err := s.new().Solve(p, a, []float64{0, 0}, 1)
		require.NoError(t, err)
		assert.Equal(t, []float64{0, 0}, p, s.name)
		assert.Zero(t, info.Decrease)
		assert.Panics(t, func() { _, _ = s.new().Solve(make([]float64, 3), a, []float64{1, 1}, 1) }, s.name)
	}
	// An operator whose products overflow gives an error, not a step.
	huge := curvature.NewDense(mat.NewSymDense(2, []float64{1e308, 1e308, 1e308, 1e308}))
	for _, s := range allSolvers() {
		_, err := s.new().Solve(p, huge, []float64{1e10, -1e10}, 1e300)
		if err == nil {
			assert.Zero(t, vec.FirstNonFinite(p)+1, s.name)
		}
	}
}

// TestTrustRegionDefaultSolver: without a Solver, the trust region's step
// is Exact's on a dense curvature and Steihaug's on a matrix-free one.
func TestTrustRegionDefaultSolver(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 1))
	a, _ := randmat.SymFromEig(rnd, []float64{-1, 1, 2})
	g := randmat.Vec(rnd, 3)
	for _, tc := range []struct {
		name   string
		curv   curvature.Operator
		solver SubproblemSolver
	}{
		{"dense: Exact", curvature.NewDense(a), &Exact{}},
		{"matrix-free: Steihaug", hidden{curvature.NewDense(a)}, &Steihaug{}},
	} {
		p := make([]float64, 3)
		want, err := tc.solver.Solve(p, tc.curv, g, 0.7)
		require.NoError(t, err, tc.name)
		x := make([]float64, 3)
		res, err := Minimize(x, quadratic{a, g}, &TrustRegion{InitialRadius: 0.7}, &Settings{
			MaxIterations: 1,
			Curvature:     func([]float64) (curvature.Operator, error) { return tc.curv, nil },
		})
		require.NoError(t, err, tc.name)
		require.Len(t, res.Steps, 1, tc.name)
		assert.Equal(t, want, res.Steps[0].Solve, tc.name)
	}
	_, err := (&Steihaug{Tol: 2}).Solve(make([]float64, 3), curvature.NewDense(a), g, 0.7)
	var se *SettingError
	assert.ErrorAs(t, err, &se)
}

// On the trust-region boundary, K-FAC-preconditioned Steihaug–Toint keeps
// its step on the ellipsoid ‖p‖_P̃ = Δ of P̃ = K + μI, measured here from
// products with K, and reports the model decrease the dense GGN gives.
func TestSteihaugKFACBoundary(t *testing.T) {
	const lambda, mu = 1e-2, 1e-2
	m, theta, set := digitsModel(t, 6, 31)
	b := firstRows(set, 100)
	G, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	op, err := m.Operator(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	g := batchGradient(t, m, theta, b)
	k, err := KFACCurvature(m, nil)(theta, b)
	require.NoError(t, err)
	kop := k.(curvature.Operator)
	pNorm := func(p []float64) float64 {
		kp := make([]float64, len(p))
		kop.MulVecTo(kp, p)
		return math.Sqrt(floats.Dot(p, kp) + mu*floats.Dot(p, p))
	}
	for _, radius := range []float64{0.01, 0.1, 1} {
		s := &Steihaug{Preconditioner: k, PreconditionerDamping: mu, Tol: 1e-10}
		p := make([]float64, len(g))
		info, err := s.Solve(p, shifted{op, lambda}, g, radius)
		require.NoError(t, err)
		require.True(t, info.Boundary, "Δ = %v", radius)
		assert.InDelta(t, radius, pNorm(p), 1e-9*radius, "Δ = %v", radius)
		assert.Equal(t, radius, info.Norm)
		want := -modelValue(randmat.Shifted(G, lambda), g, p)
		assert.InDelta(t, want, info.Decrease, 1e-9*want, "Δ = %v", radius)
		assert.Greater(t, info.Decrease, 0.0)
	}
}
