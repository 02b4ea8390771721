package curvature

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// The statistics against per-sample gradients of one-sample batches, on a
// batch of more than one chunk (the variance's chunks merged), and against
// the gradient covariance's and empirical Fisher's diagonals.
func TestGradientStats(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 300, 41)
	// A large mean gradient: the variance must not come from Σg² − Nḡ².
	for i := range f.theta {
		f.theta[i] += 2
	}
	s, err := f.m.GradientStats(f.theta, f.b, nil)
	require.NoError(t, err)
	n, P := f.b.Len(), len(f.theta)
	mean := make([]float64, P)
	sumsq := make([]float64, P)
	grads := make([][]float64, n)
	for i := 0; i < n; i++ {
		g := f.perSampleGrad(i, f.b.Y.RawRowView(i))
		grads[i] = g
		assert.InDelta(t, floats.Dot(g, g), s.NormsSq[i], 1e-12*floats.Dot(g, g), "‖g_%d‖²", i)
		floats.Add(mean, g)
		for j, v := range g {
			sumsq[j] += v * v
		}
	}
	floats.Scale(1/float64(n), mean)
	assert.Less(t, floats.Distance(mean, s.Grad, 2), 1e-12*floats.Norm(mean, 2))
	assert.Less(t, floats.Distance(sumsq, s.SumSquared, 2), 1e-12*floats.Norm(sumsq, 2))
	variance := make([]float64, P)
	for _, g := range grads {
		for j, v := range g {
			variance[j] += (v - mean[j]) * (v - mean[j]) / float64(n)
		}
	}
	assert.Less(t, floats.Distance(variance, s.Variance, 2), 1e-11*floats.Norm(variance, 2))
	cov, err := f.m.Diagonal(GradientCovariance, f.theta, f.b, nil)
	require.NoError(t, err)
	assert.Less(t, floats.Distance(cov, s.Variance, 2), 1e-11*floats.Norm(cov, 2))

	_, err = f.m.GradientStats(f.theta, f.b, &Options{Budget: 10})
	var be *BudgetError
	assert.ErrorAs(t, err, &be)
	_, err = f.m.GradientStats(f.theta[1:], f.b, nil)
	assert.Error(t, err)
}

// V Vᵀ is the GGN (exact factor) or the Monte-Carlo Fisher of the same
// sampled labels.
func TestGGNFactor(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, loss, 7, 42)
		P := len(f.theta)
		for _, c := range []struct {
			kind Kind
			opt  *Options
			cols int
		}{
			{GGN, nil, 7 * 3},
			{MCFisher, &Options{Samples: 2, Seed: 5}, 7 * 2},
		} {
			V, err := f.m.GGNFactor(c.kind, f.theta, f.b, c.opt)
			require.NoError(t, err)
			r, k := V.Dims()
			require.Equal(t, [2]int{P, c.cols}, [2]int{r, k})
			var vvt mat.Dense
			vvt.Mul(V, V.T())
			want := f.dense(t, c.kind, c.opt)
			assert.Less(t, relErr(&vvt, want), 1e-13, "%s %v", loss.Name(), c.kind)
		}
		_, err := f.m.GGNFactor(Hessian, f.theta, f.b, nil)
		assert.Error(t, err)
		_, err = f.m.GGNFactor(GGN, f.theta, f.b, &Options{Budget: P})
		var be *BudgetError
		assert.ErrorAs(t, err, &be)
	}
	assert.True(t, finiteAll([]float64{1, 2}))
	assert.False(t, finiteAll([]float64{1}, []float64{math.NaN()}))
}
