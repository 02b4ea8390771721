package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/internal/randmat"
)

// opOnly hides every method but the Operator ones, forcing the generic
// (materialising) paths.
type opOnly struct{ op curvature.Operator }

func (o opOnly) Dim() int                  { return o.op.Dim() }
func (o opOnly) MulVecTo(dst, v []float64) { o.op.MulVecTo(dst, v) }

func TestCompareIdentical(t *testing.T) {
	rnd := newRand(51)
	m := randSPD(rnd, 15, 0.1)
	a, err := NewSymMatrix(m, 0)
	require.NoError(t, err)
	g := randmat.Vec(rnd, 15)
	for _, exact := range []curvature.Operator{curvature.NewDense(m), opOnly{curvature.NewDense(m)}, a} {
		c, err := Compare(exact, a, g, 0.1, 4, nil)
		require.NoError(t, err)
		assert.Equal(t, 0.0, c.RelFrobenius)
		assert.InDelta(t, 0, c.RelSpectral, 1e-14)
		assert.InDelta(t, 0, c.SolveRelError, 1e-13)
		assert.InDelta(t, 1, c.SolveCosine, 1e-14)
		assert.NoError(t, c.SolveErr)
		assert.InDeltaSlice(t, c.ExactTop, c.ApproxTop, 1e-13)
		assert.True(t, c.DenseSpectral)
		assert.Equal(t, 225, c.Floats)
	}
}

// TestCompareScaled: M̃ = cM has relative Frobenius and spectral errors
// |c−1| exactly, undamped solve x̃ = x/c (relative error |1/c−1|, cosine
// 1) and eigenvalues c·λ; for c < 1 the difference M̃ − M = (c−1)M has
// its largest magnitude at the negative end. Both the dense and the
// Lanczos spectral metrics.
func TestCompareScaled(t *testing.T) {
	rnd := newRand(52)
	m := randSPD(rnd, 12, 0.1)
	for _, c := range []float64{0.5, 1.5, 3} {
		var cm mat.SymDense
		cm.ScaleSym(c, m)
		a, _ := NewSymMatrix(&cm, 0)
		g := randmat.Vec(rnd, 12)
		for _, set := range []*MetricSettings{nil, {DenseLimit: -1}} {
			cmp, err := Compare(curvature.NewDense(m), a, g, 0, 3, set)
			require.NoError(t, err)
			assert.Equal(t, set == nil, cmp.DenseSpectral)
			assert.InDelta(t, math.Abs(c-1), cmp.RelFrobenius, 1e-14)
			assert.InDelta(t, math.Abs(c-1), cmp.RelSpectral, 1e-13)
			assert.InDelta(t, math.Abs(1/c-1), cmp.SolveRelError, 1e-11)
			assert.InDelta(t, 1, cmp.SolveCosine, 1e-13)
			for i := range cmp.ExactTop {
				assert.InDelta(t, c*cmp.ExactTop[i], cmp.ApproxTop[i], 1e-12)
				if i > 0 {
					assert.GreaterOrEqual(t, cmp.ExactTop[i-1], cmp.ExactTop[i], "descending")
				}
			}
			recs := cmp.Records(7, "ggn", "scaled")
			require.Equal(t, 5+3, len(recs))
			assert.Equal(t, data.Record{Step: 7, Matrix: "ggn", Approximation: "scaled", Metric: MetricRelFrobenius, Value: cmp.RelFrobenius}, recs[1])
			assert.Equal(t, data.Record{Step: 7, Matrix: "ggn", Approximation: "scaled", Metric: MetricEigenvalue, Index: 3, Value: cmp.ApproxTop[2]}, recs[7])
			exact := cmp.ExactRecords(7, "ggn")
			require.Equal(t, 1+3, len(exact))
			assert.Equal(t, data.Record{Step: 7, Matrix: "ggn", Approximation: "exact", Metric: MetricLambda, Value: 0}, exact[0])
			for i, r := range exact[1:] {
				assert.Equal(t, data.Record{Step: 7, Matrix: "ggn", Approximation: "exact", Metric: MetricEigenvalue, Index: i + 1, Value: cmp.ExactTop[i]}, r)
			}
		}
	}
}

// TestCompareDiagonal checks a non-trivial approximation against dense
// formulas: ‖D−M‖_F is the norm of M's off-diagonal part; the spectral
// error is the largest |eigenvalue| of D − M from a dense eigensolver.
func TestCompareDiagonal(t *testing.T) {
	rnd := newRand(53)
	m := randSPD(rnd, 10, 0.5)
	d, _ := DiagonalOf(m, 0)
	var off float64
	for i := 0; i < 10; i++ {
		for j := 0; j < 10; j++ {
			if i != j {
				off += m.At(i, j) * m.At(i, j)
			}
		}
	}
	g := randmat.Vec(rnd, 10)
	c, err := Compare(curvature.NewDense(m), d, g, 0.2, 2, nil)
	require.NoError(t, err)
	assert.InDelta(t, math.Sqrt(off)/mat.Norm(m, 2), c.RelFrobenius, 1e-14)
	diff := mat.NewSymDense(10, nil)
	for i := 0; i < 10; i++ {
		for j := i; j < 10; j++ {
			diff.SetSym(i, j, d.Dense().At(i, j)-m.At(i, j))
		}
	}
	var es, em mat.EigenSym
	require.True(t, es.Factorize(diff, false))
	require.True(t, em.Factorize(m, false))
	vd, vm := es.Values(nil), em.Values(nil)
	want := math.Max(-vd[0], vd[9]) / vm[9]
	assert.InDelta(t, want, c.RelSpectral, 1e-13)
	x, xt := denseSolve(t, m, g, 0.2), denseSolve(t, d.Dense(), g, 0.2)
	assert.InDelta(t, relDiff(xt, x), c.SolveRelError, 1e-12)
	assert.InDelta(t, mat.Dot(mat.NewVecDense(10, x), mat.NewVecDense(10, xt))/
		(mat.Norm(mat.NewVecDense(10, x), 2)*mat.Norm(mat.NewVecDense(10, xt), 2)), c.SolveCosine, 1e-12)
}

// TestCompareLanczos forces the Lanczos path and checks it against the
// dense one on matrices with decaying spectra, where the extreme Ritz
// values converge quickly.
func TestCompareLanczos(t *testing.T) {
	rnd := newRand(54)
	const n = 160
	var q mat.QR
	q.Factorize(randDense(rnd, n, n))
	var qm mat.Dense
	q.QTo(&qm)
	eig := make([]float64, n)
	for i := range eig {
		eig[i] = math.Pow(0.8, float64(i))
	}
	m := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		m.SymRankOne(m, eig[i], qm.ColView(i))
	}
	a, _ := BlockDiagonalOf(m, Ranges(40, 40, 40, 40), 0)
	g := randmat.Vec(rnd, n)
	dense, err := Compare(curvature.NewDense(m), a, g, 0.01, 5, nil)
	require.NoError(t, err)
	assert.True(t, dense.DenseSpectral)
	lanczos := &MetricSettings{DenseLimit: -1}
	lz, err := Compare(curvature.NewDense(m), a, g, 0.01, 5, lanczos)
	require.NoError(t, err)
	assert.False(t, lz.DenseSpectral)
	assert.InDelta(t, dense.RelSpectral, lz.RelSpectral, 1e-8)
	assert.InDeltaSlice(t, dense.ExactTop, lz.ExactTop, 1e-10)
	assert.InDeltaSlice(t, dense.ApproxTop, lz.ApproxTop, 1e-10)
	assert.InDeltaSlice(t, eig[:5], lz.ExactTop, 1e-10)
	assert.Equal(t, dense.RelFrobenius, lz.RelFrobenius)
	// The same seed gives the same numbers.
	again, err := Compare(curvature.NewDense(m), a, g, 0.01, 5, lanczos)
	require.NoError(t, err)
	assert.Equal(t, lz, again)
	// The limit is the largest order solved densely.
	at, err := Compare(curvature.NewDense(m), a, g, 0.01, 5, &MetricSettings{DenseLimit: n})
	require.NoError(t, err)
	assert.True(t, at.DenseSpectral)

	// A Lanczos run restarts when its Krylov space is invariant, so it
	// recovers repeated eigenvalues with their multiplicity.
	id := mat.NewSymDense(6, []float64{2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 5})
	vals, err := TopEigenvalues(curvature.NewDense(id), 6, lanczos)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{5, 5, 5, 2, 2, 2}, vals, 1e-12)
	// So do the extreme eigenvalues of SolveDamping, closed forms on this
	// matrix and on its negative.
	lambda, err := SolveDamping(curvature.NewDense(id), lanczos)
	require.NoError(t, err)
	assert.InDelta(t, 0.005, lambda, 1e-12)
	var neg mat.SymDense
	neg.ScaleSym(-1, id)
	lambda, err = SolveDamping(curvature.NewDense(&neg), lanczos)
	require.NoError(t, err)
	assert.InDelta(t, 5.005, lambda, 1e-12)
}

func TestCompareErrors(t *testing.T) {
	m := randSPD(newRand(55), 4, 0.1)
	a, _ := DiagonalOf(m, 0)
	op := curvature.NewDense(m)
	_, err := Compare(op, a, []float64{1, 2, 3}, 0, 1, nil)
	assert.Error(t, err)
	_, err = Compare(op, a, []float64{1, 2, 3, math.NaN()}, 0, 1, nil)
	assert.Error(t, err)
	_, err = Compare(op, a, []float64{1, 2, 3, 4}, -1, 1, nil)
	assert.Error(t, err)
	_, err = Compare(op, a, []float64{1, 2, 3, 4}, 0, 5, nil)
	assert.Error(t, err)
	_, err = Compare(curvature.NewDense(mat.NewSymDense(4, nil)), a, []float64{1, 2, 3, 4}, 1, 1, nil)
	assert.Error(t, err, "zero exact matrix")
	lanczos := &MetricSettings{DenseLimit: -1}
	_, err = Compare(curvature.NewDense(mat.NewSymDense(4, nil)), a, []float64{1, 2, 3, 4}, 1, 1, lanczos)
	assert.Error(t, err, "zero exact matrix, by Lanczos")
	_, err = Compare(op, a, []float64{1, 2, 3, 4}, 0, 1, &MetricSettings{LanczosSteps: -1})
	assert.Error(t, err, "negative LanczosSteps")
	_, err = TopEigenvalues(op, 1, &MetricSettings{LanczosSteps: -1})
	assert.Error(t, err, "negative LanczosSteps")
	_, err = SolveDamping(op, &MetricSettings{LanczosSteps: -1})
	assert.Error(t, err, "negative LanczosSteps")
	_, err = TopEigenvalues(op, 5, nil)
	assert.Error(t, err, "k > n")
	nan := mat.NewSymDense(4, nil)
	nan.CopySym(m)
	nan.SetSym(1, 2, math.NaN())
	for _, s := range []*MetricSettings{nil, lanczos} {
		_, err = RelSpectralError(curvature.NewDense(nan), a, s)
		assert.Error(t, err, "NaN in the exact matrix")
	}
	_, err = RelSpectralError(curvature.NewDense(nan), a, lanczos)
	assert.ErrorIs(t, err, curvature.ErrNonFinite)

	// An approximation that is not PD at this λ: NaN solve metrics, the
	// rest still measured.
	bad, _ := NewDiagonal([]float64{1, -1, 1, 1}, 0)
	c, err := Compare(op, bad, []float64{1, 2, 3, 4}, 0.5, 2, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, c.SolveErr, curvature.ErrNotPositiveDefinite)
	assert.True(t, math.IsNaN(c.SolveRelError) && math.IsNaN(c.SolveCosine))
	assert.False(t, math.IsNaN(c.RelFrobenius))
}

// SolveDamping is 10⁻³ of the spectral norm, plus −λ_min for an
// indefinite matrix: closed forms on diagonal matrices, densely and by
// Lanczos.
func TestSolveDamping(t *testing.T) {
	for _, c := range []struct {
		d    []float64
		want float64
	}{
		{[]float64{1, 5}, 0.005},
		{[]float64{-2, 1, 3}, 2.003},
		{[]float64{-7, 0.5}, 7.007},
		{[]float64{0, 0}, 0},
	} {
		for _, set := range []*MetricSettings{nil, {DenseLimit: -1}} {
			got, err := SolveDamping(curvature.NewDense(mat.NewDiagDense(len(c.d), c.d)), set)
			require.NoError(t, err)
			assert.InDelta(t, c.want, got, 1e-12, "%v, %+v", c.d, set)
		}
	}
}

// TestCompareProgress: Compare reports each measurement as it ends, and
// listening changes no number.
func TestCompareProgress(t *testing.T) {
	rnd := newRand(52)
	m := randSPD(rnd, 12, 0.1)
	d, err := DiagonalOf(m, 0)
	require.NoError(t, err)
	g := randmat.Vec(rnd, 12)
	for _, k := range []int{0, 3} {
		var done, total []int
		s := &MetricSettings{Progress: func(d, t int) { done, total = append(done, d), append(total, t) }}
		c, err := Compare(curvature.NewDense(m), d, g, 0.1, k, s)
		require.NoError(t, err)
		steps := 3
		if k > 0 {
			steps = 5
		}
		want := make([]int, steps)
		for i := range want {
			want[i] = i + 1
		}
		assert.Equal(t, want, done, "k = %d", k)
		for _, v := range total {
			assert.Equal(t, steps, v)
		}
		quiet, err := Compare(curvature.NewDense(m), d, g, 0.1, k, nil)
		require.NoError(t, err)
		assert.Equal(t, quiet, c)
	}
}

// The Frobenius error of a dense exact matrix against an approximation
// with a dense form (entry by entry) equals the one from products with
// unit vectors (the same operators without their dense forms).
func TestRelFrobeniusRoutes(t *testing.T) {
	rnd := newRand(83)
	M := randSPD(rnd, 45, 0.1)
	exact, err := NewSymMatrix(M, 0)
	require.NoError(t, err)
	k := randKFAC(t, 84, []KronShape{{G: 5, A: 9}}, nil)
	dense, err := RelFrobeniusError(exact, k)
	require.NoError(t, err)
	other, err := NewSymMatrix(Dense(k), 0)
	require.NoError(t, err)
	products, err := RelFrobeniusError(bare{exact}, bare{other})
	require.NoError(t, err)
	assert.InDelta(t, products, dense, 1e-13*products)
	_, err = RelFrobeniusError(exact, &Diagonal{d: make([]float64, 45)})
	require.NoError(t, err)
	zero, err := NewSymMatrix(mat.NewSymDense(45, nil), 0)
	require.NoError(t, err)
	_, err = RelFrobeniusError(zero, k)
	assert.Error(t, err)
}
