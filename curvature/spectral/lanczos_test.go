package spectral

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

type eigenCase struct {
	name  string
	a     func(rnd *rand.Rand) *mat.SymDense
	k     int
	which Which
}

func decaying(n int, p float64) func(*rand.Rand) *mat.SymDense {
	return func(rnd *rand.Rand) *mat.SymDense {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = math.Pow(float64(i+1), -p)
		}
		return symFromEig(vals, rnd)
	}
}

func eigenCases() []eigenCase {
	return []eigenCase{
		{"decaying spd top-5", decaying(80, 1), 5, Largest},
		{"decaying spd bottom-3", decaying(40, 0.5), 3, Smallest},
		{"random indefinite top-4", func(r *rand.Rand) *mat.SymDense { return randSym(50, r) }, 4, Largest},
		{"random indefinite bottom-4", func(r *rand.Rand) *mat.SymDense { return randSym(50, r) }, 4, Smallest},
		{"triple top eigenvalue", func(r *rand.Rand) *mat.SymDense {
			return symFromEig([]float64{5, 5, 5, 4, 3, 2, 1, 0.5, 0.25, 0.1}, r)
		}, 4, Largest},
		{"identity", func(*rand.Rand) *mat.SymDense {
			a := mat.NewSymDense(20, nil)
			for i := 0; i < 20; i++ {
				a.SetSym(i, i, 1)
			}
			return a
		}, 3, Largest},
		{"rank-3 psd, bottom zeros", func(r *rand.Rand) *mat.SymDense {
			return symFromEig([]float64{0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, r)
		}, 3, Smallest},
		{"1×1", func(*rand.Rand) *mat.SymDense { return mat.NewSymDense(1, []float64{-2.5}) }, 1, Largest},
		{"k = n", func(r *rand.Rand) *mat.SymDense { return randSym(8, r) }, 8, Smallest},
	}
}

// TestLanczosAgainstEigenSym compares Lanczos with the dense
// eigendecomposition: the wanted eigenvalues to 1e-8 of ‖A‖, the reported
// residuals with ones recomputed from the dense matrix, orthonormal
// vectors, and the product count with a counting operator.
func TestLanczosAgainstEigenSym(t *testing.T) {
	for _, tc := range eigenCases() {
		t.Run(tc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, 2))
			a := tc.a(rnd)
			vals := denseEig(a)
			norm := maxAbs(vals)
			op := &counting{op: curvature.NewDense(a)}
			res, err := (&Lanczos{K: tc.k, Which: tc.which, Tol: 1e-10, Seed: 3}).Eigen(op)
			require.NoError(t, err)
			require.Equal(t, tc.k, res.Converged)
			want := wanted(vals, tc.k, tc.which)
			for i := range want {
				assert.InDelta(t, want[i], res.Values[i], 1e-8*norm, "value %d", i)
				assert.InDelta(t, residual(a, res.Vectors, i, res.Values[i]), res.Residuals[i], 1e-12*norm, "residual %d", i)
				assert.LessOrEqual(t, res.Residuals[i], 1e-10*math.Max(math.Abs(res.Values[i]), 1.5e-8*norm)+1e-14*norm, "residual %d", i)
			}
			var vtv mat.Dense
			vtv.Mul(res.Vectors.T(), res.Vectors)
			for i := 0; i < tc.k; i++ {
				for j := 0; j < tc.k; j++ {
					assert.InDelta(t, b2f(i == j), vtv.At(i, j), 1e-10, "VᵀV (%d, %d)", i, j)
				}
			}
			assert.Equal(t, op.n, res.Products)
			t.Logf("%d steps, %d products for n = %d", res.Steps, res.Products, a.SymmetricDim())
		})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestLanczosSeeded: the same seed gives the same result, another seed
// the same eigenvalues.
func TestLanczosSeeded(t *testing.T) {
	a := decaying(60, 1)(rand.New(rand.NewPCG(4, 4)))
	op := curvature.NewDense(a)
	r1, err := (&Lanczos{K: 3, Seed: 7}).Eigen(op)
	require.NoError(t, err)
	r2, err := (&Lanczos{K: 3, Rand: rand.New(rand.NewPCG(7, 0))}).Eigen(op)
	require.NoError(t, err)
	assert.Equal(t, r1, r2)
	r3, err := (&Lanczos{K: 3, Seed: 8}).Eigen(op)
	require.NoError(t, err)
	assert.InDeltaSlice(t, r1.Values, r3.Values, 1e-8)
}

// TestLanczosNotConverged: too few steps for a clustered spectrum give
// the best pairs, with their true residuals, and ErrNotConverged.
func TestLanczosNotConverged(t *testing.T) {
	vals := make([]float64, 200)
	for i := range vals {
		vals[i] = 1 + 1e-3*float64(i)/200 // tightly clustered
	}
	a := symFromEig(vals, rand.New(rand.NewPCG(5, 5)))
	res, err := (&Lanczos{K: 2, MaxSteps: 6, Tol: 1e-12}).Eigen(curvature.NewDense(a))
	require.ErrorIs(t, err, ErrNotConverged)
	require.NotNil(t, res)
	assert.Less(t, res.Converged, 2)
	assert.Equal(t, 6, res.Steps)
	for i := range res.Values {
		assert.InDelta(t, residual(a, res.Vectors, i, res.Values[i]), res.Residuals[i], 1e-12)
	}
}

// TestPowerAgainstEigenSym: power iteration finds the eigenvalues of
// largest magnitude, and Lanczos the same ones with fewer products.
func TestPowerAgainstEigenSym(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 6))
	for _, tc := range []struct {
		name string
		a    *mat.SymDense
	}{
		{"decaying spd", decaying(60, 1)(rnd)},
		{"indefinite with gaps", symFromEig([]float64{-9, 6, -3, 1, 0.5, 0.2, 0.1, -0.05}, rnd)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := denseEig(tc.a)
			const k = 3
			res, err := (&Power{K: k, Tol: 1e-9, MaxIter: 5000, Seed: 1}).Eigen(curvature.NewDense(tc.a))
			require.NoError(t, err)
			want := byMagnitude(vals, k)
			for i := range want {
				assert.InDelta(t, want[i], res.Values[i], 1e-8*maxAbs(vals), "value %d", i)
				assert.InDelta(t, residual(tc.a, res.Vectors, i, res.Values[i]), res.Residuals[i], 1e-12)
			}
			if tc.name == "decaying spd" {
				lz, err := (&Lanczos{K: k, Tol: 1e-9, Seed: 1}).Eigen(curvature.NewDense(tc.a))
				require.NoError(t, err)
				assert.Less(t, lz.Products, res.Products, "Lanczos needs fewer products")
				t.Logf("products: power %d, Lanczos %d", res.Products, lz.Products)
			}
		})
	}
}

func TestEigenBadInput(t *testing.T) {
	op := curvature.NewDense(mat.NewSymDense(3, []float64{1, 0, 0, 0, 2, 0, 0, 0, 3}))
	for _, tc := range []struct {
		name string
		s    EigenSolver
	}{
		{"lanczos K > n", &Lanczos{K: 4}},
		{"lanczos negative K", &Lanczos{K: -1}},
		{"lanczos NaN tol", &Lanczos{Tol: math.NaN()}},
		{"lanczos tol 1", &Lanczos{Tol: 1}},
		{"lanczos MaxSteps < K", &Lanczos{K: 3, MaxSteps: 2}},
		{"lanczos bad Which", &Lanczos{Which: 7}},
		{"power K > n", &Power{K: 4}},
		{"power negative tol", &Power{Tol: -1e-3}},
		{"power negative MaxIter", &Power{MaxIter: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Eigen(op)
			assert.Error(t, err)
			assert.Zero(t, tc.s.Floats(3))
		})
	}
	for _, s := range []EigenSolver{&Lanczos{}, &Power{}} {
		_, err := s.Eigen(nil)
		assert.Error(t, err)
		_, err = s.Eigen(curvature.NewDense(mat.NewSymDense(1, []float64{math.NaN()})))
		assert.ErrorIs(t, err, curvature.ErrNonFinite)
	}
}

// TestEigenBudget: each solver states its memory and refuses a smaller
// budget with a *curvature.BudgetError before any product.
func TestEigenBudget(t *testing.T) {
	a := decaying(50, 1)(rand.New(rand.NewPCG(7, 7)))
	for _, s := range []struct {
		name string
		new  func(budget int) EigenSolver
	}{
		{"lanczos", func(b int) EigenSolver { return &Lanczos{K: 3, Budget: b} }},
		{"power", func(b int) EigenSolver { return &Power{K: 3, Budget: b} }},
	} {
		t.Run(s.name, func(t *testing.T) {
			need := s.new(0).Floats(50)
			require.Positive(t, need)
			op := &counting{op: curvature.NewDense(a)}
			_, err := s.new(need - 1).Eigen(op)
			var be *curvature.BudgetError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, need, be.Floats)
			assert.Zero(t, op.n, "no product before the refusal")
			_, err = s.new(need).Eigen(op)
			assert.NoError(t, err)
		})
	}
}

// TestLanczosIsErrNotConvergedWrapped checks the error wraps the sentinel
// with a message.
func TestLanczosErrorMessage(t *testing.T) {
	a := symFromEig([]float64{1, 1.0001, 1.0002, 1.0003, 1.0004, 1.0005, 1.0006, 1.0007}, rand.New(rand.NewPCG(9, 9)))
	_, err := (&Lanczos{K: 3, MaxSteps: 3, Tol: 1e-14}).Eigen(curvature.NewDense(a))
	if err != nil {
		assert.True(t, errors.Is(err, ErrNotConverged))
		assert.Contains(t, err.Error(), "Lanczos steps")
	}
	_ = floats.Sum
}

// TestLanczosNetworkGGN runs Lanczos on the matrix-free GGN of a real
// network (64-6-10 on 100 digits, 460 parameters) and compares with the
// eigendecomposition of the dense GGN the curvature package assembles
// independently.
func TestLanczosNetworkGGN(t *testing.T) {
	m, theta, b := digitsGGN(t, []int{64, 6, 10}, 100)
	op, err := m.Operator(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	dense, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	vals := denseEig(dense)
	top := vals[len(vals)-1]

	res, err := (&Lanczos{K: 5, Tol: 1e-10, Seed: 2}).Eigen(op)
	require.NoError(t, err)
	for i, want := range wanted(vals, 5, Largest) {
		assert.InDelta(t, want, res.Values[i], 1e-8*top, "eigenvalue %d", i)
		assert.InDelta(t, residual(dense, res.Vectors, i, res.Values[i]), res.Residuals[i], 1e-10*top)
	}
	t.Logf("top-5 GGN eigenvalues %.6g in %d products (P = %d); bottom %.3g", res.Values, res.Products, op.Dim(), vals[:3])

	// The GGN is positive semidefinite and here singular: its bottom
	// eigenvalues are 0 to rounding (about 1e-16 in the dense solve).
	bot, err := (&Lanczos{K: 2, Which: Smallest, Tol: 1e-6, MaxSteps: 460, Seed: 3}).Eigen(op)
	require.NoError(t, err)
	for i, want := range wanted(vals, 2, Smallest) {
		assert.InDelta(t, want, bot.Values[i], 1e-9*top, "bottom eigenvalue %d", i)
	}
}

// TestLanczosProgress: one report per Lanczos step, then the end, whether
// the run converges early or uses every step.
func TestLanczosProgress(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 5))
	a := curvature.NewDense(decaying(120, 2)(rnd))
	for _, maxSteps := range []int{60, 8} {
		var log progressLog
		l := Lanczos{K: 2, MaxSteps: maxSteps, Progress: log.report}
		res, _ := l.Eigen(a)
		require.NotNil(t, res)
		assert.Equal(t, res.Steps, log.check(t, maxSteps), "MaxSteps %d", maxSteps)
	}
}
