package inverse_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/inverse"
	"github.com/curvkit/curvkit/internal/randmat"
)

// psd returns Q diag(vals) Qᵀ for a random orthogonal Q.
func psd(rnd *rand.Rand, vals ...float64) *mat.SymDense {
	a, _ := randmat.SymFromEig(rnd, vals)
	return a
}

// spread returns n eigenvalues from lo to hi, geometrically spaced, with
// the last zeros of them set to 0.
func spread(n int, lo, hi float64, zeros int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = hi * math.Pow(lo/hi, float64(i)/float64(n-1))
	}
	for i := n - zeros; i < n; i++ {
		v[i] = 0
	}
	return v
}

// cholSolve returns (a + λI)⁻¹v by a dense Cholesky factorisation: the
// reference for every inverse operator.
func cholSolve(t *testing.T, a mat.Symmetric, lambda float64, v []float64) []float64 {
	n := a.SymmetricDim()
	var c mat.Cholesky
	require.True(t, c.Factorize(randmat.Shifted(a, lambda)), "reference Cholesky")
	x := mat.NewVecDense(n, nil)
	require.NoError(t, c.SolveVecTo(x, mat.NewVecDense(n, v)))
	return x.RawVector().Data
}

// relErr returns ‖x − want‖/‖want‖.
func relErr(x, want []float64) float64 {
	d := make([]float64, len(x))
	floats.SubTo(d, x, want)
	return floats.Norm(d, 2) / floats.Norm(want, 2)
}

// TestCGAgainstCholesky: (M + λI)⁻¹v by CG, plain and preconditioned,
// against a dense Cholesky solve, for a positive semidefinite M of
// condition number 1e4 with a null space of dimension 5, so that λ is
// what makes M + λI invertible.
func TestCGAgainstCholesky(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	const n = 60
	a := psd(rnd, spread(n, 1e-2, 1e2, 5)...)
	v := randmat.Vec(rnd, n)
	diag := make([]float64, n)
	for i := range diag {
		diag[i] = a.At(i, i)
	}
	jacobi, err := approx.NewDiagonal(diag, 0)
	require.NoError(t, err)
	exact, err := approx.NewSymMatrix(a, 0)
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		lambda float64
		pre    curvature.DampedSolver
	}{
		{"lambda-1e-3", 1e-3, nil},
		{"lambda-1", 1, nil},
		{"lambda-1e-3-jacobi", 1e-3, jacobi},
		// The exact matrix as preconditioner converges in one step.
		{"lambda-1e-2-exact-preconditioner", 1e-2, exact},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := cholSolve(t, a, tc.lambda, v)
			// Rounding slows CG down at condition 1e5: MaxIterations 10n.
			c := &inverse.CG{Op: curvature.NewDense(a), Damping: tc.lambda, Tol: 1e-12, MaxIterations: 10 * n, Preconditioner: tc.pre}
			x := make([]float64, n)
			require.NoError(t, c.SolveTo(x, v))
			// Residual 1e-12 and condition ≤ 1e5: the error is below 1e-7.
			assert.Less(t, relErr(x, want), 1e-7)
			st := c.Stats()
			assert.LessOrEqual(t, st.Residual, 1e-12)
			assert.Equal(t, st.Iterations, st.Products)
			// The operator form gives the same numbers.
			y := make([]float64, n)
			c.MulVecTo(y, v)
			assert.Equal(t, x, y)
			if tc.name == "lambda-1e-2-exact-preconditioner" {
				assert.LessOrEqual(t, st.Iterations, 2)
			}
		})
	}
}

// TestCGErrors: what CG refuses and what it reports.
func TestCGErrors(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 1))
	a := psd(rnd, 3, 2, 1, -1) // indefinite
	op := curvature.NewDense(a)
	v := []float64{1, 2, 3, 4}
	x := make([]float64, 4)

	err := (&inverse.CG{Op: op, Damping: 0.5}).SolveTo(x, v)
	assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite, "M + 0.5I has eigenvalue −0.5")
	// Past the negative eigenvalue the solve succeeds.
	assert.NoError(t, (&inverse.CG{Op: op, Damping: 1.5}).SolveTo(x, v))

	spd := psd(rnd, spread(30, 1e-3, 1, 0)...)
	c := &inverse.CG{Op: curvature.NewDense(spd), MaxIterations: 3}
	x = make([]float64, 30)
	err = c.SolveTo(x, randmat.Vec(rnd, 30))
	assert.ErrorIs(t, err, inverse.ErrNotConverged)
	assert.Equal(t, 3, c.Stats().Iterations)
	assert.Greater(t, c.Stats().Residual, 1e-10)
	assert.Panics(t, func() { c.MulVecTo(x, randmat.Vec(rnd, 30)) }, "MulVecTo panics with the error")

	for _, tc := range []struct {
		name string
		c    inverse.CG
		v    []float64
	}{
		{"negative-damping", inverse.CG{Op: op, Damping: -1}, v},
		{"nan-damping", inverse.CG{Op: op, Damping: math.NaN()}, v},
		{"tol-one", inverse.CG{Op: op, Damping: 2, Tol: 1}, v},
		{"negative-iterations", inverse.CG{Op: op, Damping: 2, MaxIterations: -1}, v},
		{"nan-vector", inverse.CG{Op: op, Damping: 2}, []float64{1, math.NaN(), 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float64, 4)
			assert.Error(t, tc.c.SolveTo(x, tc.v))
		})
	}
	assert.Panics(t, func() { _ = (&inverse.CG{Op: op}).SolveTo(make([]float64, 3), v) }, "length mismatch")

	// A zero right-hand side gives zero without a product.
	z := &inverse.CG{Op: op, Damping: 2}
	x = []float64{1, 1, 1, 1}
	require.NoError(t, z.SolveTo(x, make([]float64, 4)))
	assert.Equal(t, []float64{0, 0, 0, 0}, x)
	assert.Zero(t, z.Stats().Products)
}

// TestNeumannAgainstCholesky: the series with the automatic scale sums to
// the dense solve.
func TestNeumannAgainstCholesky(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 1))
	const n = 40
	a := psd(rnd, spread(n, 1e-1, 10, 3)...)
	v := randmat.Vec(rnd, n)
	for _, lambda := range []float64{0.5, 2} {
		want := cholSolve(t, a, lambda, v)
		nm := &inverse.Neumann{Op: curvature.NewDense(a), Damping: lambda, Tol: 1e-11, Seed: 1}
		x := make([]float64, n)
		require.NoError(t, nm.SolveTo(x, v))
		// The residual is exact (B^K v); with κ ≤ 21 the error is below
		// 21·1e-11.
		assert.Less(t, relErr(x, want), 3e-10, "λ = %g", lambda)
		s, err := nm.EffectiveScale()
		require.NoError(t, err)
		// s(λ_max + λ) ≤ 1, and close to it.
		assert.InDelta(t, 1, s*(10+lambda), 1e-2)
		assert.LessOrEqual(t, s*(10+lambda), 1+1e-12)
		// κ·log(1/Tol) terms, give or take: κ = (10+λ)/λ.
		kappa := (10 + lambda) / lambda
		assert.InDelta(t, kappa*math.Log(1e11), float64(nm.Stats().Iterations), 0.2*kappa*math.Log(1e11))
	}
}

// TestNeumannTruncated: with Terms set, the result is the partial sum
// s Σ_{k<K} B^k v, computed here with dense powers of B.
func TestNeumannTruncated(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 1))
	const n, terms = 20, 7
	const s, lambda = 0.05, 0.3
	a := psd(rnd, spread(n, 1e-2, 15, 0)...)
	v := randmat.Vec(rnd, n)
	b := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			b.Set(i, j, -s*a.At(i, j))
		}
		b.Set(i, i, b.At(i, i)+1-s*lambda)
	}
	want := make([]float64, n)
	term := mat.NewVecDense(n, append([]float64(nil), v...))
	for k := 0; k < terms; k++ {
		floats.AddScaled(want, s, term.RawVector().Data)
		term.MulVec(b, mat.VecDenseCopyOf(term))
	}
	nm := &inverse.Neumann{Op: curvature.NewDense(a), Damping: lambda, Scale: s, Terms: terms}
	x := make([]float64, n)
	require.NoError(t, nm.SolveTo(x, v))
	assert.InDeltaSlice(t, want, x, 1e-13)
	assert.Equal(t, terms, nm.Stats().Iterations)
	// The reported residual is ‖B^K v‖/‖v‖.
	assert.InDelta(t, floats.Norm(term.RawVector().Data, 2)/floats.Norm(v, 2), nm.Stats().Residual, 1e-13)
}

// TestNeumannDivergence: a series that cannot converge is reported, from
// the ratio of successive terms, long before MaxTerms.
func TestNeumannDivergence(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 1))
	v := randmat.Vec(rnd, 5)
	x := make([]float64, 5)
	for _, tc := range []struct {
		name string
		nm   *inverse.Neumann
	}{
		// M + λI has eigenvalue −0.9: B has eigenvalue 1 + 0.9s > 1.
		{"indefinite", &inverse.Neumann{Op: curvature.NewDense(psd(rnd, 4, 3, 2, 1, -1)), Damping: 0.1, Seed: 1}},
		// s = 0.6 > 2/3 = 2/λ_max: B has eigenvalue 1 − 0.6·3 = −0.8, fine,
		// but 1 − 0.6·4 = −1.4.
		{"scale-too-large", &inverse.Neumann{Op: curvature.NewDense(psd(rnd, 4, 3, 2, 1, 0.5)), Scale: 0.6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.nm.SolveTo(x, v)
			assert.ErrorIs(t, err, inverse.ErrNotConverged)
			assert.Less(t, tc.nm.Stats().Iterations, 200)
		})
	}
	// M negative definite: the automatic scale is refused.
	neg := &inverse.Neumann{Op: curvature.NewDense(psd(rnd, -1, -2, -3, -4, -5))}
	assert.ErrorIs(t, neg.SolveTo(x, v), curvature.ErrNotPositiveDefinite)
}
