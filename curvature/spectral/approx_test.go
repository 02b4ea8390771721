package spectral_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/spectral"
)

// TestApproximationOperator runs the tools on a K-FAC approximation of a
// digits classifier's GGN (an approx.Approximation is a
// curvature.Operator): Lanczos against EigenSym of its dense form, Hutch++
// against the trace K-FAC computes from its Kronecker structure. (An
// external test package, since approx imports spectral.)
func TestApproximationOperator(t *testing.T) {
	set, err := data.Digits()
	require.NoError(t, err)
	net, err := nn.NewMLP([]int{64, 6, 10}, []string{"tanh", "identity"})
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	b := curvature.Batch{X: set.X.Slice(0, 100, 0, 64).(*mat.Dense), Y: set.Y.Slice(0, 100, 0, 1).(*mat.Dense)}
	kfac, err := approx.ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)

	var eig mat.EigenSym
	require.True(t, eig.Factorize(kfac.Dense(), false))
	vals := eig.Values(nil)
	n := len(vals)
	res, err := (&spectral.Lanczos{K: 3, Tol: 1e-10, Seed: 4}).Eigen(kfac)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		assert.InDelta(t, vals[n-1-i], res.Values[i], 1e-8*vals[n-1], "eigenvalue %d", i)
	}

	est, err := (&spectral.HutchPlusPlus{Products: 150, Seed: 5}).Trace(kfac)
	require.NoError(t, err)
	tr := kfac.Trace()
	t.Logf("K-FAC trace %.6g, Hutch++ %.6g ± %.2g with 150 products", tr, est.Value, est.StdErr)
	assert.InDelta(t, tr, est.Value, 4*est.StdErr+1e-9*tr)
	assert.InEpsilon(t, tr, est.Value, 0.05)
}
