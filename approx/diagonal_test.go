package approx

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

func TestDiagonalOfEqualsDiag(t *testing.T) {
	rnd := newRand(1)
	m := randSPD(rnd, 12, 0.1)
	d, err := DiagonalOf(m, 0)
	require.NoError(t, err)
	dense := d.Dense()
	for i := 0; i < 12; i++ {
		for j := 0; j < 12; j++ {
			want := 0.0
			if i == j {
				want = m.At(i, i)
			}
			assert.Equal(t, want, dense.At(i, j), "entry %d,%d", i, j)
		}
	}
	v := randVec(rnd, 12)
	got := make([]float64, 12)
	d.MulVecTo(got, v)
	assert.InDelta(t, 0, relDiff(got, denseMulVec(dense, v)), 1e-15)
	for _, lambda := range []float64{0, 0.3} {
		require.NoError(t, d.SolveDampedTo(got, v, lambda))
		assert.InDelta(t, 0, relDiff(got, denseSolve(t, dense, v, lambda)), 1e-13)
		ld, err := d.LogDet(lambda)
		require.NoError(t, err)
		assert.InDelta(t, denseLogDet(t, dense, lambda), ld, 1e-12)
	}
	assert.InDelta(t, mat.Trace(m), d.Trace(), 1e-12)
	assert.Equal(t, 12, d.Floats())
}

func TestDiagonalErrors(t *testing.T) {
	d, err := NewDiagonal([]float64{1, -2, 3}, 0)
	require.NoError(t, err)
	x := make([]float64, 3)
	v := []float64{1, 1, 1}
	err = d.SolveDampedTo(x, v, 1)
	assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite), "got %v", err)
	assert.NoError(t, d.SolveDampedTo(x, v, 2.5))
	_, err = d.LogDet(0)
	assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite))
	assert.Error(t, d.SolveDampedTo(x, v, -1))
	assert.Error(t, d.SolveDampedTo(x, v, math.NaN()))

	_, err = NewDiagonal([]float64{1, math.NaN()}, 0)
	assert.Error(t, err)
	_, err = NewDiagonal(nil, 0)
	assert.Error(t, err)
	_, err = NewDiagonal(make([]float64, 10), 5)
	var be *curvature.BudgetError
	assert.True(t, errors.As(err, &be))
}

// TestHutchinsonDiagonal checks the estimate against the exact diagonal
// with the closed-form variance Var(d̂_i) = Σ_{j≠i} M_ij² / S of
// Rademacher probes: every entry must lie within 5 standard deviations
// (for 40 entries a false alarm has probability < 1e-4 under a normal
// approximation), and the error must shrink as S grows.
func TestHutchinsonDiagonal(t *testing.T) {
	rnd := newRand(2)
	const n = 40
	m := randSPD(rnd, n, 0.5)
	op := curvature.NewDense(m)
	rmsErr := func(products int) float64 {
		d, err := HutchinsonDiagonal(op, &HutchinsonSettings{Products: products, Batch: 7}, newRand(3))
		require.NoError(t, err)
		var s float64
		for i, x := range d.Values() {
			var off float64
			for j := 0; j < n; j++ {
				if j != i {
					off += m.At(i, j) * m.At(i, j)
				}
			}
			sd := math.Sqrt(off / float64(products))
			assert.LessOrEqual(t, math.Abs(x-m.At(i, i)), 5*sd, "entry %d with %d products", i, products)
			s += (x - m.At(i, i)) * (x - m.At(i, i))
		}
		return math.Sqrt(s / n)
	}
	e64, e4096 := rmsErr(64), rmsErr(4096)
	// The error falls as 1/√S: 64× the products gives about 8× less error.
	assert.Less(t, e4096, e64/4)

	// A diagonal matrix is recovered exactly, since z_i² = 1.
	diag := mat.NewSymDense(5, nil)
	for i := 0; i < 5; i++ {
		diag.SetSym(i, i, float64(i+1))
	}
	d, err := HutchinsonDiagonal(curvature.NewDense(diag), &HutchinsonSettings{Products: 3}, newRand(4))
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3, 4, 5}, d.Values())

	// The same seed gives the same numbers.
	a, _ := HutchinsonDiagonal(op, nil, newRand(9))
	b, _ := HutchinsonDiagonal(op, nil, newRand(9))
	assert.Equal(t, a.Values(), b.Values())

	_, err = HutchinsonDiagonal(op, &HutchinsonSettings{Products: -1}, newRand(1))
	assert.Error(t, err)
}

func TestDiagonalMulMat(t *testing.T) {
	rnd := newRand(3)
	d, _ := NewDiagonal([]float64{1, -2, 3}, 0)
	v := randDense(rnd, 3, 4)
	var want mat.Dense
	want.Mul(d.Dense(), v)
	got := mat.NewDense(3, 4, nil)
	d.MulMatTo(got, v)
	assert.Equal(t, 0.0, relDiffMat(got, &want))
	var empty mat.Dense
	d.MulMatTo(&empty, v)
	assert.Equal(t, 0.0, relDiffMat(&empty, &want))
}
