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
	"github.com/curvkit/curvkit/internal/vec"
)

// tightExact solves subproblems to about 1e-12 relative accuracy, for
// tests that need the exact minimiser.
func tightExact() *Exact { return &Exact{EasyTol: 1e-12, HardTol: 1e-12} }

// checkTolerantStep checks Exact's guarantees for a step p with
// multiplier lambda and tolerances easy and hard, given the optimal model
// value best on the ball of radius delta: ‖p‖ ≤ (1 + easy)Δ; outside the
// ball, p = −(M + λI)⁻¹g with M + λI ⪰ 0 and λ ≥ 0, which by Moré &
// Sorensen's characterisation makes it optimal on the ball of radius ‖p‖
// (so no worse than best); inside, its value is at most (1 − hard)·best.
func checkTolerantStep(t *testing.T, a mat.Symmetric, g, p []float64, lambda, delta, easy, hard, best float64, name string) {
	t.Helper()
	n := len(p)
	val := modelValue(a, g, p)
	nrm := floats.Norm(p, 2)
	anorm := mat.Norm(a, 1)
	// The model's rounding error is about ε(‖g‖Δ + ‖M‖Δ²).
	tol := 1e-9*(floats.Norm(g, 2)*nrm+anorm*nrm*nrm) + 1e-300
	assert.LessOrEqual(t, nrm, (1+easy)*delta*(1+1e-12), name+": too long")
	if nrm > delta*(1+1e-12) {
		assert.LessOrEqual(t, val, best+tol, name+": outside step worse than the optimum on Δ")
		r := mat.NewVecDense(n, nil)
		r.MulVec(a, mat.NewVecDense(n, p))
		for i := range g {
			r.SetVec(i, r.AtVec(i)+lambda*p[i]+g[i])
		}
		assert.LessOrEqual(t, mat.Norm(r, 2), 1e-9*((anorm+lambda)*nrm+floats.Norm(g, 2)), name+": outside step not −(M + λI)⁻¹g")
		return
	}
	assert.LessOrEqual(t, val, (1-hard)*best+tol, name+": short of (1 − HardTol)·optimum")
}

// TestExactTolerances checks the default and other tolerances against
// projected-gradient minimisation of the model (bruteForceModelMin), on
// random definite and indefinite problems and hard cases.
func TestExactTolerances(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 1))
	settings := []struct {
		name       string
		e          func() *Exact
		easy, hard float64
	}{
		{"default", func() *Exact { return &Exact{} }, 0.1, 0.5},
		{"scipy", func() *Exact { return &Exact{EasyTol: 0.1, HardTol: 0.2} }, 0.1, 0.2},
		{"loose", func() *Exact { return &Exact{EasyTol: 0.5, HardTol: 0.6} }, 0.5, 0.6},
		{"1e-3", func() *Exact { return &Exact{EasyTol: 1e-3, HardTol: 1e-3} }, 1e-3, 1e-3},
		{"tight", tightExact, 1e-12, 1e-12},
	}
	var outside, hardSteps int
	for trial := 0; trial < 30; trial++ {
		n := 2 + trial%2
		var a *mat.SymDense
		var g []float64
		switch trial % 3 {
		case 0: // random symmetric, often indefinite
			a = randSym(n, 1+3*rnd.Float64(), rnd)
			g = randmat.Vec(rnd, n)
		case 1: // positive definite
			vals := make([]float64, n)
			for i := range vals {
				vals[i] = math.Pow(10, 2*rnd.Float64()-1)
			}
			a, _ = randmat.SymFromEig(rnd, vals)
			g = randmat.Vec(rnd, n)
		case 2: // hard case: g ⟂ the bottom eigenvector of λ₁ = −1
			vals := []float64{-1, 0.5, 2}[:n]
			var q *mat.Dense
			a, q = randmat.SymFromEig(rnd, vals)
			gh := randmat.Vec(rnd, n)
			gh[0] = 0
			floats.Scale(0.2, gh)
			g = make([]float64, n)
			mat.NewVecDense(n, g).MulVec(q, mat.NewVecDense(n, gh))
		}
		floats.Scale(math.Pow(10, 2*rnd.Float64()-1), g)
		delta := math.Pow(10, 2*rnd.Float64()-1)
		best, _ := bruteForceModelMin(a, g, delta, rnd)
		op := curvature.NewDense(a)
		for _, s := range settings {
			p := make([]float64, n)
			info, err := s.e().Solve(p, op, g, delta)
			name := fmt.Sprintf("%s trial %d (n=%d Δ=%.3g)", s.name, trial, n, delta)
			require.NoError(t, err, name)
			assert.InDelta(t, -modelValue(a, g, p), info.Decrease, 1e-10*math.Max(1, math.Abs(best)), name+": reported decrease")
			assert.InDelta(t, floats.Norm(p, 2), info.Norm, 1e-12*delta, name+": reported norm")
			checkTolerantStep(t, a, g, p, info.Lambda, delta, s.easy, s.hard, best, name)
			// λ is a valid multiplier: M + λI ⪰ 0.
			var eig mat.EigenSym
			require.True(t, eig.Factorize(a, false))
			assert.GreaterOrEqual(t, info.Lambda, 0.0, name)
			assert.GreaterOrEqual(t, info.Lambda+eig.Values(nil)[0], -1e-9, name+": M + λI indefinite")
			if floats.Norm(p, 2) > delta*(1+1e-12) {
				outside++
			}
			if info.HardCase {
				hardSteps++
			}
		}
	}
	// The table exercises both non-exact exits.
	assert.Positive(t, outside, "no step accepted outside the region")
	assert.Positive(t, hardSteps, "no step completed along the bottom eigenvector")
}

// FuzzExactTolerances checks the default tolerances' guarantees on
// arbitrary small problems (decoded as in FuzzSubproblem) against the
// tightly solved subproblem: no error, ‖p‖ ≤ 1.1Δ, M + λI ⪰ 0, an outside
// step −(M + λI)⁻¹g, an inside one within 0.5 of the optimal value.
func FuzzExactTolerances(f *testing.F) {
	f.Add([]byte{1, 4, 4, 6, 0xff, 0, 0, 0, 2, 0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, g, radius := decodeSubproblem(data)
		n := len(g)
		op := curvature.NewDense(a)
		q := make([]float64, n)
		if _, err := tightExact().Solve(q, op, g, radius); err != nil {
			t.Fatalf("tight solve: %v", err)
		}
		var eig mat.EigenSym
		if !eig.Factorize(a, false) {
			t.Skip("reference eigendecomposition failed")
		}
		p := make([]float64, n)
		info, err := (&Exact{}).Solve(p, op, g, radius)
		if err != nil {
			t.Fatalf("default solve: %v", err)
		}
		if i := vec.FirstNonFinite(p); i >= 0 {
			t.Fatalf("step has %v", p[i])
		}
		if math.Abs(-modelValue(a, g, p)-info.Decrease) > 1e-9*(math.Abs(info.Decrease)+floats.Norm(g, 2)*radius)+1e-300 {
			t.Errorf("reported decrease %v, model %v", info.Decrease, -modelValue(a, g, p))
		}
		checkTolerantStep(t, a, g, p, info.Lambda, radius, 0.1, 0.5, modelValue(a, g, q), "default")
		if l1 := eig.Values(nil)[0]; !(info.Lambda >= 0) || info.Lambda+l1 < -1e-12*mat.Norm(a, 1) {
			t.Errorf("λ = %v with λ₁ = %v: M + λI indefinite", info.Lambda, l1)
		}
	})
}

// TestExactSingularBound checks Moré & Sorensen's bound from a failed
// Cholesky factorisation: exact (−d_k at the first failing pivot) for a
// diagonal matrix, and between σ and −λ₁ for random ones.
func TestExactSingularBound(t *testing.T) {
	e := &Exact{}
	diag := mat.NewSymDense(4, nil)
	for i, d := range []float64{3, 1, -2, -5} {
		diag.SetSym(i, i, d)
	}
	require.NoError(t, e.load(diag))
	e.y = make([]float64, 4)
	for _, tc := range []struct {
		sigma, want float64
		pivot       int
	}{
		{0, 2, 2},   // pivot 3 (d = −2) fails first
		{1.5, 2, 2}, // still pivot 3
		{2.5, 5, 3}, // pivot 4
		{-2, -1, 1}, // pivot 2 (d + σ = −1)
	} {
		k := e.cholesky(tc.sigma)
		require.Equal(t, tc.pivot, k, "σ = %v", tc.sigma)
		assert.InDelta(t, tc.want, e.singularBound(tc.sigma, k), 1e-15, "σ = %v", tc.sigma)
	}
	rnd := rand.New(rand.NewPCG(22, 1))
	for trial := 0; trial < 50; trial++ {
		n := 1 + trial%6
		a := randSym(n, 1, rnd)
		require.NoError(t, e.load(a))
		e.y = make([]float64, n)
		var eig mat.EigenSym
		require.True(t, eig.Factorize(a, false))
		l1 := eig.Values(nil)[0]
		sigma := -l1 - rnd.Float64()*(1+math.Abs(l1)) // M + σI indefinite
		k := e.cholesky(sigma)
		require.Less(t, k, n, "trial %d: factorisation must fail", trial)
		b := e.singularBound(sigma, k)
		assert.GreaterOrEqual(t, b, sigma, "trial %d", trial)
		assert.LessOrEqual(t, b, -l1+1e-12*(1+math.Abs(l1)), "trial %d: bound above −λ₁", trial)
	}
}

// TestExactEstimate checks the singular-value estimate against the
// eigendecomposition: for M + σI = RᵀR positive definite, s² is at least
// λ_min and, on these ill-conditioned matrices, within a factor 4 of it,
// and zᵀ(M + σI)z ≥ λ_min with z a unit vector.
func TestExactEstimate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(24, 1))
	for trial := 0; trial < 40; trial++ {
		n := 2 + trial%5
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = math.Pow(10, 4*rnd.Float64()-2)
		}
		vals[0] = 1e-4 // one small eigenvalue, well separated
		a, _ := randmat.SymFromEig(rnd, vals)
		e := &Exact{}
		require.NoError(t, e.load(a))
		e.w, e.y, e.z = make([]float64, n), make([]float64, n), make([]float64, n)
		require.Equal(t, n, e.cholesky(0))
		s := e.estimate(e.z)
		assert.InDelta(t, 1, floats.Norm(e.z, 2), 1e-12)
		assert.GreaterOrEqual(t, s*s, 1e-4*(1-1e-8), "trial %d", trial)
		assert.LessOrEqual(t, s*s, 4e-4, "trial %d", trial)
		assert.GreaterOrEqual(t, e.normRSquared(e.z), 1e-4*(1-1e-8), "trial %d", trial)
	}
}

// TestExactBoundReuse: the lower bound of a solve starts the next only for
// the same M and g; with a new g the solve equals a fresh solver's.
func TestExactBoundReuse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(23, 1))
	a, _ := randmat.SymFromEig(rnd, []float64{-1, 2, 5})
	op := curvature.NewDense(a)
	g := randmat.Vec(rnd, 3)
	e := &Exact{}
	p, q := make([]float64, 3), make([]float64, 3)
	_, err := e.Solve(p, op, g, 1)
	require.NoError(t, err)
	small := append([]float64(nil), g...)
	floats.Scale(1e-3, small) // σ* drops towards −λ₁: an old bound would be wrong
	info, err := e.Solve(p, op, small, 0.5)
	require.NoError(t, err)
	want, err := (&Exact{}).Solve(q, op, small, 0.5)
	require.NoError(t, err)
	assert.Equal(t, q, p)
	assert.Equal(t, want.Lambda, info.Lambda)
	assert.Equal(t, want.Factorizations, info.Factorizations, "same iterations")
	// With the same M and g and a smaller radius the bound is reused: no
	// more factorisations than a fresh solve, and a step as good.
	for _, delta := range []float64{0.25, 0.05} {
		info, err = e.Solve(p, op, small, delta)
		require.NoError(t, err)
		want, err = (&Exact{}).Solve(q, op, small, delta)
		require.NoError(t, err)
		assert.LessOrEqual(t, info.Factorizations, want.Factorizations, "Δ = %v", delta)
		best, _ := bruteForceModelMin(a, small, delta, rnd)
		checkTolerantStep(t, a, small, p, info.Lambda, delta, 0.1, 0.5, best, fmt.Sprintf("Δ = %v", delta))
	}
}

func TestExactValidate(t *testing.T) {
	op := curvature.NewDense(mat.NewSymDense(2, []float64{2, 0, 0, 1}))
	p := make([]float64, 2)
	for _, tc := range []struct {
		name string
		e    Exact
	}{
		{"negative easy", Exact{EasyTol: -0.1}},
		{"easy 1", Exact{EasyTol: 1}},
		{"NaN easy", Exact{EasyTol: math.NaN()}},
		{"negative hard", Exact{HardTol: -1e-3}},
		{"hard inf", Exact{HardTol: math.Inf(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var se *SettingError
			_, err := tc.e.Solve(p, op, []float64{1, 1}, 1)
			assert.ErrorAs(t, err, &se)
			e := tc.e
			assert.ErrorAs(t, (&TrustRegion{Solver: &e}).Validate(), &se)
		})
	}
}
