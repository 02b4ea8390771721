package approx

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// Untruncated and undiscounted, TONGA on one batch's per-sample gradients
// is the block-diagonal part of the gradient covariance (centered) or of
// the empirical Fisher (uncentered) that curvature.Model.Dense builds; its
// mean is the batch gradient, and its natural gradient the dense damped
// solve with the masked matrix.
func TestModelTONGAUntruncated(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 9, 41)
	grad := make([]float64, m.Net.NumParams())
	tp := nn.NewTape(m.Net, m.Loss)
	tp.Forward(theta, b.X)
	tp.Backward(grad, nil, b.Y)
	for _, p := range []Partition{PerLayer, PerNeuron} {
		for _, uncentered := range []bool{false, true} {
			matrix := curvature.GradientCovariance
			if uncentered {
				matrix = curvature.EmpiricalFisher
			}
			t.Run(fmt.Sprintf("%v/%v", p, matrix), func(t *testing.T) {
				tg, err := ModelTONGA(m, theta, b, p, &TONGASettings{Rank: 9, Discount: 1, Uncentered: uncentered})
				require.NoError(t, err)
				M, err := m.Dense(matrix, theta, b, nil)
				require.NoError(t, err)
				index, err := p.Index(m.Net)
				require.NoError(t, err)
				masked := maskBlocks(M, index)
				assert.Less(t, relDiffMat(tg.Dense(), masked), 1e-12)
				assert.Less(t, relDiff(tg.Mean(), grad), 1e-13)
				const lambda = 1e-2
				x := make([]float64, len(grad))
				require.NoError(t, tg.NaturalGradientTo(x, lambda))
				assert.Less(t, relDiff(x, denseSolve(t, masked, grad, lambda)), 1e-10)
			})
		}
	}
}

// Truncated, the natural gradient direction is the dense solve with the
// low-rank-plus-diagonal estimate TONGA holds; and feeding two batches one
// after the other is feeding their concatenation.
func TestTONGAFeedStream(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 16, 42)
	set := &TONGASettings{Rank: 2, Refresh: 3, Discount: 0.9, Residual: DiagonalResidual}
	f, err := NewTONGAFeed(m, PerNeuron, set)
	require.NoError(t, err)
	half := func(i, j int) curvature.Batch {
		return curvature.Batch{X: b.X.Slice(i, j, 0, 3).(*mat.Dense), Y: b.Y.Slice(i, j, 0, 3).(*mat.Dense)}
	}
	require.NoError(t, f.Add(theta, half(0, 8)))
	require.NoError(t, f.Add(theta, half(8, 16)))
	whole, err := ModelTONGA(m, theta, b, PerNeuron, set)
	require.NoError(t, err)
	tg := f.TONGA()
	assert.Equal(t, 16, tg.Count())
	assert.Less(t, relDiffMat(tg.Dense(), whole.Dense()), 1e-12)

	const lambda = 1e-3
	x := make([]float64, tg.Dim())
	require.NoError(t, tg.NaturalGradientTo(x, lambda))
	assert.Less(t, relDiff(x, denseSolve(t, tg.Dense(), tg.Mean(), lambda)), 1e-9)
}

func TestTONGAFeedErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 43)
	_, err := NewTONGAFeed(&curvature.Model{}, PerLayer, nil)
	assert.Error(t, err, "empty model")
	_, err = NewTONGAFeed(m, Partition(5), nil)
	assert.Error(t, err, "unknown partition")
	_, err = NewTONGAFeed(m, PerLayer, &TONGASettings{Discount: 2})
	assert.Error(t, err, "discount above 1")
	f, err := NewTONGAFeed(m, PerLayer, nil)
	require.NoError(t, err)
	bad := curvature.Batch{X: b.X, Y: mat.NewDense(3, 2, nil)}
	assert.Error(t, f.Add(theta, bad), "3 targets for 4 inputs")
	assert.Equal(t, 0, f.TONGA().Count())
}

// TONGA weighs every gradient 1: a weighted batch is refused.
func TestTONGARefusesWeights(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	b.W = []float64{1, 2, 1, 1}
	_, err := ModelTONGA(m, theta, b, PerLayer, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sample weights")
}
