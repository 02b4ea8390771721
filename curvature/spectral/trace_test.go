package spectral

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

func trace(a mat.Symmetric) float64 {
	t := 0.0
	for i := 0; i < a.SymmetricDim(); i++ {
		t += a.At(i, i)
	}
	return t
}

// TestHutchinsonDiagonalMatrix: for a diagonal matrix every Rademacher
// probe gives zᵀDz = tr D and z ⊙ Dz = diag D exactly.
func TestHutchinsonDiagonalMatrix(t *testing.T) {
	d := mat.NewSymDense(5, nil)
	for i, v := range []float64{3, -1, 0.5, 2, 7} {
		d.SetSym(i, i, v)
	}
	op := curvature.NewDense(d)
	est, err := (&Hutchinson{Products: 4, Seed: 1}).Trace(op)
	require.NoError(t, err)
	assert.InDelta(t, 11.5, est.Value, 1e-12)
	assert.InDelta(t, 0, est.StdErr, 1e-12)
	assert.Equal(t, 4, est.Products)
	diag := make([]float64, 5)
	prods, err := (&Hutchinson{Products: 3, Seed: 2}).Diagonal(diag, op)
	require.NoError(t, err)
	assert.Equal(t, 3, prods)
	assert.InDeltaSlice(t, []float64{3, -1, 0.5, 2, 7}, diag, 1e-12)
}

// TestHutchinsonVariance checks the estimator is unbiased with the
// variance of its closed form, 2(‖A‖_F² − Σa_ii²)/m for Rademacher and
// 2‖A‖_F²/m for Gaussian probes, over 400 seeds.
func TestHutchinsonVariance(t *testing.T) {
	a := randSym(30, rand.New(rand.NewPCG(1, 1)))
	checkSampling(t, a, trace(a), 0.2, func(m int, gaussian bool, seed uint64) (Estimate, error) {
		return (&Hutchinson{Products: m, Gaussian: gaussian, Seed: seed}).Trace(curvature.NewDense(a))
	})
}

// checkSampling runs a Hutchinson-type estimator of want, the mean of
// zᵀBz, with m = 10 probes over 400 seeds, Rademacher and Gaussian, and
// checks it is unbiased, with the variance of the closed form
// 2(‖B‖_F² − Σb_ii²)/m for Rademacher and 2‖B‖_F²/m for Gaussian probes,
// the reported standard errors within rel of it (the sample variance of
// s² over 400 seeds is within about 15%).
func checkSampling(t *testing.T, b mat.Symmetric, want, rel float64, est func(m int, gaussian bool, seed uint64) (Estimate, error)) {
	var fro2, diag2 float64
	n := b.SymmetricDim()
	for i := 0; i < n; i++ {
		diag2 += b.At(i, i) * b.At(i, i)
		for j := 0; j < n; j++ {
			fro2 += b.At(i, j) * b.At(i, j)
		}
	}
	const m, seeds = 10, 400
	for _, tc := range []struct {
		name     string
		gaussian bool
		variance float64
	}{
		{"rademacher", false, 2 * (fro2 - diag2) / m},
		{"gaussian", true, 2 * fro2 / m},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mean, sq, se float64
			for s := uint64(0); s < seeds; s++ {
				e, err := est(m, tc.gaussian, s)
				require.NoError(t, err)
				assert.Equal(t, m, e.Products)
				mean += e.Value / seeds
				sq += (e.Value - want) * (e.Value - want) / seeds
				se += e.StdErr * e.StdErr / seeds
			}
			sd := math.Sqrt(tc.variance)
			assert.InDelta(t, want, mean, 4*sd/math.Sqrt(seeds), "unbiased")
			assert.InEpsilon(t, tc.variance, sq, rel, "variance")
			assert.InEpsilon(t, tc.variance, se, rel, "reported standard error")
		})
	}
}

// TestHutchinsonDiagonalError: the mean squared error of the diagonal
// estimate of entry i is Σ_{j≠i} a_ij²/m for Rademacher probes.
func TestHutchinsonDiagonalError(t *testing.T) {
	a := randSym(12, rand.New(rand.NewPCG(2, 2)))
	const m, seeds = 20, 300
	mse := make([]float64, 12)
	d := make([]float64, 12)
	for s := uint64(0); s < seeds; s++ {
		_, err := (&Hutchinson{Products: m, Seed: s}).Diagonal(d, curvature.NewDense(a))
		require.NoError(t, err)
		for i := range d {
			mse[i] += (d[i] - a.At(i, i)) * (d[i] - a.At(i, i)) / seeds
		}
	}
	for i := range mse {
		want := 0.0
		for j := 0; j < 12; j++ {
			if j != i {
				want += a.At(i, j) * a.At(i, j) / m
			}
		}
		assert.InEpsilon(t, want, mse[i], 0.3, "entry %d", i)
	}
}

// TestHutchinsonDiagonalBound checks the diagonal estimate against the
// exact diagonal with the closed-form variance Var(d̂_i) = Σ_{j≠i} a_ij²/m
// of Rademacher probes: every entry lies within 5 standard deviations
// (for 40 entries a false alarm has probability < 1e-4 under a normal
// approximation), and 64× the products gives about 8× less error.
func TestHutchinsonDiagonalBound(t *testing.T) {
	const n = 40
	a := randSym(n, rand.New(rand.NewPCG(2, 1)))
	op := curvature.NewDense(a)
	d := make([]float64, n)
	rmsErr := func(m int) float64 {
		_, err := (&Hutchinson{Products: m, Seed: 3}).Diagonal(d, op)
		require.NoError(t, err)
		var s float64
		for i, x := range d {
			var off float64
			for j := 0; j < n; j++ {
				if j != i {
					off += a.At(i, j) * a.At(i, j)
				}
			}
			assert.LessOrEqual(t, math.Abs(x-a.At(i, i)), 5*math.Sqrt(off/float64(m)), "entry %d with %d products", i, m)
			s += (x - a.At(i, i)) * (x - a.At(i, i))
		}
		return math.Sqrt(s / n)
	}
	e64, e4096 := rmsErr(64), rmsErr(4096)
	assert.Less(t, e4096, e64/4)
}

// TestHutchinsonSeed: the same seed gives the same numbers, and Seed s
// draws what Rand does from rand.NewPCG(s, 0); the default is 30 probes.
func TestHutchinsonSeed(t *testing.T) {
	op := curvature.NewDense(randSym(12, rand.New(rand.NewPCG(7, 7))))
	run := func(h func() *Hutchinson) ([]float64, Estimate) {
		d := make([]float64, 12)
		prods, err := h().Diagonal(d, op)
		require.NoError(t, err)
		assert.Equal(t, 30, prods)
		tr, err := h().Trace(op)
		require.NoError(t, err)
		assert.Equal(t, 30, tr.Products)
		return d, tr
	}
	d1, t1 := run(func() *Hutchinson { return &Hutchinson{Seed: 9} })
	d2, t2 := run(func() *Hutchinson { return &Hutchinson{Seed: 9} })
	d3, t3 := run(func() *Hutchinson { return &Hutchinson{Rand: rand.New(rand.NewPCG(9, 0))} })
	d4, t4 := run(func() *Hutchinson { return &Hutchinson{Seed: 10} })
	assert.Equal(t, d1, d2)
	assert.Equal(t, t1, t2)
	assert.Equal(t, d1, d3)
	assert.Equal(t, t1, t3)
	assert.NotEqual(t, d1, d4)
	assert.NotEqual(t, t1, t4)
}

// TestHutchPlusPlusExact: Hutch++ is exact when Products/3 ≥ n (Q spans
// everything) and when the matrix has rank ≤ Products/3.
func TestHutchPlusPlusExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	full := randSym(9, rnd)
	lowRank := symFromEig([]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 2, 3, 5}, rnd)
	for _, tc := range []struct {
		name string
		a    *mat.SymDense
		m    int
	}{
		{"m/3 ≥ n", full, 30},
		{"rank 4 ≤ m/3", lowRank, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := &counting{op: curvature.NewDense(tc.a)}
			est, err := (&HutchPlusPlus{Products: tc.m, Seed: 4}).Trace(op)
			require.NoError(t, err)
			assert.InDelta(t, trace(tc.a), est.Value, 1e-10)
			assert.LessOrEqual(t, est.Products, tc.m)
			assert.Equal(t, op.n, est.Products)
		})
	}
}

// TestHutchPlusPlusBeatsHutchinson: on a matrix with decaying spectrum
// (λ_i = i⁻², n = 200) Hutch++ reaches a mean relative error of 5%, over
// 20 seeds, with at least 4× fewer products than Hutchinson (Meyer et
// al. 2021, §5: Hutchinson's error falls as 1/√m, Hutch++'s as 1/m).
func TestHutchPlusPlusBeatsHutchinson(t *testing.T) {
	vals := make([]float64, 200)
	for i := range vals {
		vals[i] = 1 / float64((i+1)*(i+1))
	}
	a := symFromEig(vals, rand.New(rand.NewPCG(5, 5)))
	op := curvature.NewDense(a)
	tr := trace(a)
	const target, seeds = 0.05, 20
	meanErr := func(m int, hpp bool) float64 {
		e := 0.0
		for s := uint64(0); s < seeds; s++ {
			var est Estimate
			var err error
			if hpp {
				est, err = (&HutchPlusPlus{Products: m, Seed: s}).Trace(op)
			} else {
				est, err = (&Hutchinson{Products: m, Seed: s}).Trace(op)
			}
			require.NoError(t, err)
			e += math.Abs(est.Value-tr) / tr / seeds
		}
		return e
	}
	reach := func(hpp bool) int {
		for m := 12; m <= 1536; m *= 2 {
			if meanErr(m, hpp) <= target {
				return m
			}
		}
		return math.MaxInt
	}
	h, hpp := reach(false), reach(true)
	t.Logf("products for 5%% mean relative error: Hutchinson %d, Hutch++ %d", h, hpp)
	assert.Less(t, hpp, h)
	assert.LessOrEqual(t, 4*hpp, h, "at least 4× fewer")
}

func TestTraceBadInputAndBudget(t *testing.T) {
	a := randSym(10, rand.New(rand.NewPCG(6, 6)))
	op := curvature.NewDense(a)
	_, err := (&Hutchinson{Products: -1}).Trace(op)
	assert.Error(t, err)
	_, err = (&HutchPlusPlus{Products: 2}).Trace(op)
	assert.Error(t, err)
	_, err = (&Hutchinson{}).Trace(nil)
	assert.Error(t, err)
	_, err = (&Hutchinson{}).Trace(curvature.NewDense(mat.NewSymDense(2, []float64{1, math.Inf(1), math.Inf(1), 1})))
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
	assert.Panics(t, func() { _, _ = (&Hutchinson{}).Diagonal(make([]float64, 3), op) })
	_, err = (&Hutchinson{Products: -1}).Diagonal(make([]float64, 10), op)
	assert.Error(t, err)
	_, err = (&Hutchinson{}).Diagonal(nil, nil)
	assert.Error(t, err)
	_, err = (&Hutchinson{}).Diagonal(make([]float64, 2), curvature.NewDense(mat.NewSymDense(2, []float64{1, math.NaN(), math.NaN(), 1})))
	assert.ErrorIs(t, err, curvature.ErrNonFinite)

	var be *curvature.BudgetError
	h := &Hutchinson{Budget: 29}
	assert.Equal(t, 30, h.Floats(10))
	_, err = h.Trace(op)
	assert.ErrorAs(t, err, &be)
	_, err = h.Diagonal(make([]float64, 10), op)
	assert.ErrorAs(t, err, &be)
	hpp := &HutchPlusPlus{Products: 12}
	assert.Equal(t, 4*10+30, hpp.Floats(10))
	hpp.Budget = hpp.Floats(10) - 1
	_, err = hpp.Trace(op)
	assert.ErrorAs(t, err, &be)
}

// TestHutchinsonNetworkDiagonal: Hutchinson's diagonal from the
// matrix-free Hessian, GGN and empirical Fisher of a network is unbiased
// with Var d̂_i = Σ_{j≠i} M_ij²/m (Bekas et al. 2007): every coordinate lies
// within 5 standard deviations of the diagonal of the dense matrix, which
// package curvature assembles independently, and the estimate is not the
// exact diagonal (it is a real estimate).
func TestHutchinsonNetworkDiagonal(t *testing.T) {
	mod, theta, b := digitsGGN(t, []int{64, 3, 10}, 20)
	const m = 400
	for _, kind := range []curvature.Kind{curvature.Hessian, curvature.GGN, curvature.EmpiricalFisher} {
		t.Run(kind.String(), func(t *testing.T) {
			op, err := mod.Operator(kind, theta, b, nil)
			require.NoError(t, err)
			d := make([]float64, op.Dim())
			_, err = (&Hutchinson{Products: m, Seed: 13}).Diagonal(d, op)
			require.NoError(t, err)
			dense, err := mod.Dense(kind, theta, b, nil)
			require.NoError(t, err)
			n := dense.SymmetricDim()
			exact := true
			for i := 0; i < n; i++ {
				var v float64
				for j := 0; j < n; j++ {
					if j != i {
						v += dense.At(i, j) * dense.At(i, j)
					}
				}
				assert.InDelta(t, dense.At(i, i), d[i], 5*math.Sqrt(v/m)+1e-12, "coordinate %d", i)
				if math.Abs(d[i]-dense.At(i, i)) > 1e-9*(1+math.Abs(dense.At(i, i))) {
					exact = false
				}
			}
			assert.False(t, exact)
		})
	}
}
