package approx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// The partitions of a 3-4-2 MLP, written out by hand from the layout:
// layer 0 is 4 neurons × (3+1), layer 1 is 2 neurons × (4+1).
func TestPartitionIndex(t *testing.T) {
	net, err := nn.NewMLP([]int{3, 4, 2}, []string{"tanh", "identity"})
	require.NoError(t, err)
	cases := []struct {
		p    Partition
		want [][]int
	}{
		{PerLayer, [][]int{
			{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
			{16, 17, 18, 19, 20, 21, 22, 23, 24, 25},
		}},
		{PerNeuron, [][]int{
			{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15},
			{16, 17, 18, 19, 20}, {21, 22, 23, 24, 25},
		}},
	}
	for _, c := range cases {
		t.Run(c.p.String(), func(t *testing.T) {
			got, err := c.p.Index(net)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
			back, err := ParsePartition(c.p.String())
			require.NoError(t, err)
			assert.Equal(t, c.p, back)
		})
	}
	_, err = Partition(7).Index(net)
	assert.Error(t, err)
	_, err = ParsePartition("row")
	assert.Error(t, err)
	shapes, err := NetworkShapes(net)
	require.NoError(t, err)
	assert.Equal(t, LayerShapes(3, 4, 2), shapes)
}

// The block-diagonal built layer block by layer block keeps exactly the
// diagonal blocks of the dense matrix and nothing else, for every kind and
// both partitions, and agrees with BlockDiagonalOf on the dense matrix.
func TestModelBlockDiagonalKeepsBlocks(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 10, 21)
	for _, p := range []Partition{PerLayer, PerNeuron} {
		for _, kind := range curvature.Kinds {
			t.Run(p.String()+"/"+kind.String(), func(t *testing.T) {
				opt := &curvature.Options{Samples: 2, Rand: newRand(9)}
				bd, err := ModelBlockDiagonal(m, kind, p, theta, b, opt)
				require.NoError(t, err)
				index, err := p.Index(m.Net)
				require.NoError(t, err)
				assert.Equal(t, len(index), bd.NumBlocks())
				// The labels ModelBlockDiagonal drew: a seed taken from
				// the same generator state.
				dense, err := m.Dense(kind, theta, b, &curvature.Options{Samples: 2, Seed: newRand(9).Uint64()})
				require.NoError(t, err)
				assert.Less(t, relDiffMat(bd.Dense(), maskBlocks(dense, index)), 1e-13)
				of, err := BlockDiagonalOf(dense, index, 0)
				require.NoError(t, err)
				assert.Less(t, relDiffMat(bd.Dense(), of.Dense()), 1e-13)
			})
		}
	}
}

func TestModelBlockDiagonalErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 22)
	_, err := ModelBlockDiagonal(m, curvature.GGN, PerLayer, theta[1:], b, nil)
	assert.Error(t, err, "short θ")
	_, err = ModelBlockDiagonal(m, curvature.GGN, Partition(3), theta, b, nil)
	assert.Error(t, err, "unknown partition")
	_, err = ModelBlockDiagonal(m, curvature.GGN, PerNeuron, theta, b, &curvature.Options{Budget: 50})
	var be *curvature.BudgetError
	assert.ErrorAs(t, err, &be, "per-neuron blocks need 4·16+2·25 = 114 floats")
}
