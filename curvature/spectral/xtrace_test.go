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

func diagOf(a mat.Symmetric) []float64 {
	d := make([]float64, a.SymmetricDim())
	for i := range d {
		d[i] = a.At(i, i)
	}
	return d
}

// lowRank returns an n×n symmetric matrix of rank r with eigenvalues
// ±1 … ±r (alternating signs when indefinite).
func lowRank(n, r int, indefinite bool, rnd *rand.Rand) *mat.SymDense {
	vals := make([]float64, n)
	for i := 0; i < r; i++ {
		vals[i] = float64(i + 1)
		if indefinite && i%2 == 1 {
			vals[i] = -vals[i]
		}
	}
	return symFromEig(vals, rnd)
}

// TestXTraceLowRankExact: with m = Products/2 probes, each leave-one-out
// sketch of m − 1 vectors spans the range of a matrix of rank ≤ m − 1, so
// XTrace and XDiag are exact to rounding (Epperly, Tropp & Webber 2024);
// at rank m they are not.
func TestXTraceLowRankExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 3))
	const n, products = 50, 20 // m = 10
	for _, tc := range []struct {
		name       string
		rank       int
		indefinite bool
		gaussian   bool
		exact      bool
	}{
		{"psd-rank-9", 9, false, false, true},
		{"indefinite-rank-9", 9, true, false, true},
		{"gaussian-rank-5", 5, true, true, true},
		{"rank-10", 10, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := lowRank(n, tc.rank, tc.indefinite, rnd)
			x := &XTrace{Products: products, Gaussian: tc.gaussian, Seed: 4}
			est, err := x.Trace(curvature.NewDense(a))
			require.NoError(t, err)
			d := make([]float64, n)
			prods, err := x.Diagonal(d, curvature.NewDense(a))
			require.NoError(t, err)
			tr := trace(a)
			if tc.exact {
				assert.InDelta(t, tr, est.Value, 1e-11*float64(tc.rank*tc.rank))
				assert.Less(t, est.StdErr, 1e-10)
				assert.InDeltaSlice(t, diagOf(a), d, 1e-11*float64(tc.rank))
				// m products for the sketch and one per basis vector.
				assert.Equal(t, products/2+tc.rank, est.Products)
				assert.Equal(t, est.Products, prods)
			} else {
				assert.Greater(t, math.Abs(est.Value-tr), 1e-6)
				assert.Equal(t, products, est.Products)
			}
		})
	}
}

// TestXTraceUnbiased: every leave-one-out estimate is unbiased, so the
// mean of XTrace over 3000 seeds on a small indefinite matrix lies within
// 4 standard errors of the trace; XDiag likewise entry by entry.
func TestXTraceUnbiased(t *testing.T) {
	a := randSym(8, rand.New(rand.NewPCG(5, 5)))
	tr, diag := trace(a), diagOf(a)
	const seeds = 3000
	for _, gaussian := range []bool{false, true} {
		var w welford
		dw := make([]welford, 8)
		d := make([]float64, 8)
		for s := uint64(0); s < seeds; s++ {
			x := &XTrace{Products: 6, Gaussian: gaussian, Seed: s}
			est, err := x.Trace(curvature.NewDense(a))
			require.NoError(t, err)
			w.add(est.Value)
			_, err = x.Diagonal(d, curvature.NewDense(a))
			require.NoError(t, err)
			for i := range d {
				dw[i].add(d[i])
			}
		}
		assert.InDelta(t, tr, w.mean, 4*w.stdErr(), "gaussian %v: trace", gaussian)
		for i := range dw {
			// 8 entries: a false alarm at 4.5 standard errors has
			// probability below 1e-4.
			assert.InDelta(t, diag[i], dw[i].mean, 4.5*dw[i].stdErr(), "gaussian %v: entry %d", gaussian, i)
		}
	}
}

// TestXTraceDecayingSpectrum: on a matrix whose eigenvalues decay like
// 1/i², XTrace's error with 40 products is below Hutch++'s and far below
// Hutchinson's (the comparison of the paper's experiments), its reported
// standard error is of the size of its error, and XDiag beats
// Hutchinson's diagonal.
func TestXTraceDecayingSpectrum(t *testing.T) {
	const n, products, seeds = 200, 40, 40
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = 1 / float64((i+1)*(i+1))
	}
	a := symFromEig(vals, rand.New(rand.NewPCG(6, 6)))
	op := curvature.NewDense(a)
	tr, diag := trace(a), diagOf(a)
	var xt, hpp, hut, se, xd, hd float64
	d := make([]float64, n)
	for s := uint64(0); s < seeds; s++ {
		x := &XTrace{Products: products, Seed: s}
		e, err := x.Trace(op)
		require.NoError(t, err)
		xt += (e.Value - tr) * (e.Value - tr) / seeds
		se += e.StdErr * e.StdErr / seeds
		_, err = x.Diagonal(d, op)
		require.NoError(t, err)
		for i := range d {
			xd += (d[i] - diag[i]) * (d[i] - diag[i]) / seeds
		}
		e, err = (&HutchPlusPlus{Products: products, Seed: s}).Trace(op)
		require.NoError(t, err)
		hpp += (e.Value - tr) * (e.Value - tr) / seeds
		h := &Hutchinson{Products: products, Seed: s}
		e, err = h.Trace(op)
		require.NoError(t, err)
		hut += (e.Value - tr) * (e.Value - tr) / seeds
		_, err = h.Diagonal(d, op)
		require.NoError(t, err)
		for i := range d {
			hd += (d[i] - diag[i]) * (d[i] - diag[i]) / seeds
		}
	}
	t.Logf("RMS trace error: XTrace %.2e (reported %.2e), Hutch++ %.2e, Hutchinson %.2e; RMS diagonal error: XDiag %.2e, Hutchinson %.2e",
		math.Sqrt(xt), math.Sqrt(se), math.Sqrt(hpp), math.Sqrt(hut), math.Sqrt(xd), math.Sqrt(hd))
	assert.Less(t, xt, hpp)
	assert.Less(t, 10*xt, hut)
	assert.InEpsilon(t, math.Sqrt(xt), math.Sqrt(se), 2, "reported standard error within a factor 3")
	assert.Less(t, 4*xd, hd)
}

// TestFrobenius: ‖A‖_F² = E‖Az‖² is estimated without bias, with the
// variance of its closed form 2(‖A²‖_F² − Σ(A²)_ii²)/m for Rademacher
// probes and 2‖A²‖_F²/m for Gaussian ones, over 400 seeds, and each
// estimate's standard error matches it.
func TestFrobenius(t *testing.T) {
	a := randSym(20, rand.New(rand.NewPCG(7, 7)))
	var a2 mat.SymDense
	a2.SymOuterK(1, a) // A Aᵀ = A² for symmetric A
	fro2 := trace(&a2)
	checkSampling(t, &a2, fro2, 0.25, func(m int, gaussian bool, seed uint64) (Estimate, error) {
		return (&Frobenius{Products: m, Gaussian: gaussian, Seed: seed}).Squared(curvature.NewDense(a))
	})
	// A diagonal matrix with Rademacher probes: ‖Dz‖² = Σ d_i² exactly.
	d := mat.NewSymDense(3, []float64{2, 0, 0, 0, -3, 0, 0, 0, 0.5})
	est, err := (&Frobenius{Products: 3}).Squared(curvature.NewDense(d))
	require.NoError(t, err)
	assert.InDelta(t, 13.25, est.Value, 1e-13)
	assert.InDelta(t, 0, est.StdErr, 1e-13)
}

// TestEstimatorSettings: bad settings and budgets are errors, before any
// product.
func TestEstimatorSettings(t *testing.T) {
	op := &counting{op: curvature.NewDense(randSym(10, rand.New(rand.NewPCG(8, 8))))}
	_, err := (&XTrace{Products: 3}).Trace(op)
	assert.Error(t, err)
	_, err = (&XTrace{Budget: 100}).Trace(op)
	var be *curvature.BudgetError
	assert.ErrorAs(t, err, &be)
	_, err = (&XTrace{Products: -2}).Diagonal(make([]float64, 10), op)
	assert.Error(t, err)
	_, err = (&Frobenius{Products: -1}).Squared(op)
	assert.Error(t, err)
	_, err = (&Frobenius{Budget: 5}).Squared(op)
	assert.ErrorAs(t, err, &be)
	_, err = (&XTrace{}).Trace(nil)
	assert.Error(t, err)
	assert.Zero(t, op.n, "no product before the checks")
	assert.Panics(t, func() { _, _ = (&XTrace{}).Diagonal(make([]float64, 9), op) })
	// A product with NaN is an error.
	nan := mat.NewSymDense(2, []float64{1, math.NaN(), math.NaN(), 1})
	_, err = (&XTrace{Products: 4}).Trace(curvature.NewDense(nan))
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
	// The zero matrix: every estimate is 0.
	z, err := (&XTrace{Products: 4}).Trace(curvature.NewDense(mat.NewSymDense(5, nil)))
	require.NoError(t, err)
	assert.Zero(t, z.Value)
}
