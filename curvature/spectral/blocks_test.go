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

// TestBlocksNetwork: per-layer traces and top eigenvalues of the Hessian
// and the GGN of a 64-6-5-10 digits classifier, from products with the
// whole operator restricted to each layer's parameters, against the dense
// layer blocks that curvature.Model.Block assembles independently.
func TestBlocksNetwork(t *testing.T) {
	m, theta, b := digitsGGN(t, []int{64, 6, 5, 10}, 60)
	blocks := m.ParamBlocks()
	require.Len(t, blocks, 3)
	for _, kind := range []curvature.Kind{curvature.Hessian, curvature.GGN} {
		t.Run(kind.String(), func(t *testing.T) {
			op, err := m.Operator(kind, theta, b, nil)
			require.NoError(t, err)
			// Enough products for the largest block (390 parameters): XTrace
			// is then exact; 40 products give an estimate.
			exact, err := BlockTraces(op, blocks, &XTrace{Products: 2 * 391, Seed: 1})
			require.NoError(t, err)
			est, err := BlockTraces(op, blocks, &XTrace{Products: 40, Seed: 1})
			require.NoError(t, err)
			eig, err := BlockEigen(op, blocks, &Lanczos{K: 2, Tol: 1e-10, Seed: 1})
			require.NoError(t, err)
			for k, r := range blocks {
				block, err := m.Block(kind, k, theta, b, nil)
				require.NoError(t, err)
				require.Equal(t, r[1]-r[0], block.SymmetricDim())
				tr := trace(block)
				vals := denseEig(block)
				scale := maxAbs(vals)
				assert.InDelta(t, tr, exact[k].Value, 1e-9*scale*float64(r[1]-r[0]), "block %d exact trace", k)
				assert.InDelta(t, tr, est[k].Value, 5*est[k].StdErr+1e-12, "block %d estimated trace ± 5 SE", k)
				for i, want := range wanted(vals, 2, Largest) {
					assert.InDelta(t, want, eig[k].Values[i], 1e-8*scale, "block %d eigenvalue %d", k, i)
				}
				t.Logf("block %d [%d, %d): trace %.6g, XTrace(40) %.6g ± %.2g, top %.6g", k, r[0], r[1], tr, est[k].Value, est[k].StdErr, eig[k].Values)
			}
		})
	}
}

// TestBlocksErrors: bad ranges are errors; a block whose pairs do not
// converge keeps its result.
func TestBlocksErrors(t *testing.T) {
	a := symFromEig([]float64{5, 4, 3, 2, 1, 0.5}, rand.New(rand.NewPCG(9, 9)))
	op := curvature.NewDense(a)
	for _, blocks := range [][][2]int{{{0, 7}}, {{-1, 2}}, {{3, 3}}} {
		_, err := BlockTraces(op, blocks, nil)
		assert.Error(t, err, "%v", blocks)
		_, err = BlockEigen(op, blocks, nil)
		assert.Error(t, err, "%v", blocks)
	}
	res, err := BlockEigen(op, [][2]int{{0, 3}, {3, 6}}, &Power{MaxIter: 1, Seed: 1})
	assert.ErrorIs(t, err, ErrNotConverged)
	require.Len(t, res, 2)
	assert.NotNil(t, res[0])
	assert.NotNil(t, res[1])
	// The default solver on each block: its largest eigenvalue.
	res, err = BlockEigen(op, [][2]int{{0, 2}, {2, 6}}, nil)
	require.NoError(t, err)
	for k, r := range [][2]int{{0, 2}, {2, 6}} {
		sub := mat.NewSymDense(r[1]-r[0], nil)
		for i := r[0]; i < r[1]; i++ {
			for j := i; j < r[1]; j++ {
				sub.SetSym(i-r[0], j-r[0], a.At(i, j))
			}
		}
		vals := denseEig(sub)
		assert.InDelta(t, vals[len(vals)-1], res[k].Values[0], 1e-8*math.Abs(vals[len(vals)-1]))
	}
	assert.Panics(t, func() { curvature.Restrict(op, 2, 7) })
}
