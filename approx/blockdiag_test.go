package approx

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/inverse"
	"github.com/curvkit/curvkit/internal/randmat"
)

func TestBlockDiagonalKeepsBlocks(t *testing.T) {
	cases := []struct {
		name  string
		index [][]int
	}{
		{"ranges", Ranges(3, 1, 4, 2)},
		{"one block", Ranges(10)},
		{"index sets", [][]int{{7, 0, 3}, {1}, {9, 2, 8, 4}, {5, 6}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rnd := newRand(5)
			const n = 10
			m := randSPD(rnd, n, 0.2)
			bd, err := BlockDiagonalOf(m, c.index, 0)
			require.NoError(t, err)
			block := make([]int, n)
			for b, idx := range c.index {
				for _, i := range idx {
					block[i] = b
				}
			}
			dense := bd.Dense()
			sp := bd.Sparse()
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					want := 0.0
					if block[i] == block[j] {
						want = m.At(i, j)
					}
					assert.Equal(t, want, dense.At(i, j), "dense %d,%d", i, j)
					assert.Equal(t, want, sp.At(i, j), "sparse %d,%d", i, j)
				}
			}
			nnz := 0
			for _, idx := range c.index {
				nnz += len(idx) * len(idx)
			}
			assert.Equal(t, nnz, sp.NNZ())
			assert.Equal(t, nnz, bd.Floats())

			v := randmat.Vec(rnd, n)
			// Repeat λ: the second solve uses the cached factorisations.
			checkDense(t, bd, dense, v, []float64{0, 0.5, 0.5}, 1e-14, 1e-12, 1e-10)
			assert.InDelta(t, mat.Trace(dense), bd.Trace(), 1e-12)
			ld, err := bd.LogDet(0)
			require.NoError(t, err)
			assert.InDelta(t, denseLogDet(t, dense, 0), ld, 1e-10)

			got := make([]float64, n)
			inverse.Direct{P: bd, Damping: 0.5}.MulVecTo(got, v)
			assert.InDelta(t, 0, relDiff(got, denseSolve(t, dense, v, 0.5)), 1e-12)
		})
	}
}

func TestBlockDiagonalErrors(t *testing.T) {
	rnd := newRand(6)
	m := randSym(rnd, 6)
	for _, c := range []struct {
		name  string
		index [][]int
	}{
		{"missing", [][]int{{0, 1}, {2, 3, 4}}},
		{"repeated", [][]int{{0, 1, 2}, {2, 3, 4, 5}}},
		{"out of range", [][]int{{0, 1, 2}, {3, 4, 6}}},
		{"empty block", [][]int{{0, 1, 2, 3, 4, 5}, {}}},
		{"empty", nil},
	} {
		_, err := BlockDiagonalOf(m, c.index, 0)
		assert.Error(t, err, c.name)
	}
	_, err := BlockDiagonalOf(m, Ranges(3, 3), 17)
	assert.Error(t, err, "budget 17 < 18")

	// An indefinite block is reported, not panicked on.
	ind := mat.NewSymDense(4, []float64{1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1})
	bd, err := BlockDiagonalOf(ind, Ranges(2, 2), 0)
	require.NoError(t, err)
	x := make([]float64, 4)
	err = bd.SolveDampedTo(x, []float64{1, 1, 1, 1}, 0.5)
	assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite), "got %v", err)
	assert.NoError(t, bd.SolveDampedTo(x, []float64{1, 1, 1, 1}, 1.5))
	err = inverse.Direct{P: bd, Damping: 0.5}.SolveTo(x, []float64{1, 1, 1, 1})
	assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
}
