package verify

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// Every layer of package nn passes: the affine layer and the element-wise
// layer of each activation.
func TestOwnLayers(t *testing.T) {
	layers := []nn.Layer{nn.Dense{In: 4, Out: 3}}
	for _, name := range []string{"identity", "tanh", "sigmoid", "relu", "softplus", "elu", "gelu"} {
		act, err := nn.ActivationByName(name)
		require.NoError(t, err)
		layers = append(layers, nn.Elementwise{Size: 5, Act: act})
	}
	for _, l := range layers {
		rep := Layer(l, 6, rand.New(rand.NewPCG(1, 1)), nil)
		assert.NoError(t, rep.Err(), rep.String())
		assert.GreaterOrEqual(t, len(rep.Checks), 3)
	}
}

// Every loss of package nn passes.
func TestOwnLosses(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		rep := Loss(loss, 3, 4, rand.New(rand.NewPCG(2, 2)), nil)
		assert.NoError(t, rep.Err(), rep.String())
	}
}

// An MLP with each loss passes the model checks.
func TestOwnModels(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		net, err := nn.NewMLP([]int{3, 4, 3}, []string{"tanh", "identity"})
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(3, 3))
		theta := make([]float64, net.NumParams())
		net.Init(theta, rng)
		x := randMat(5, 3, rng)
		y := mat.NewDense(5, loss.TargetDim(3), nil)
		z := nn.NewTape(net, loss).Forward(theta, x)
		for i := 0; i < 5; i++ {
			loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
		}
		rep, err := Model(&curvature.Model{Net: net, Loss: loss}, theta, curvature.Batch{X: x, Y: y}, rng, &Options{Samples: 4000})
		require.NoError(t, err)
		assert.NoError(t, rep.Err(), rep.String())
	}
}

// brokenLayer is an affine layer whose transposed product forgets the
// bias and whose JVP is off by a factor: the checks must catch both.
type brokenLayer struct{ nn.Dense }

func (b brokenLayer) JVP(dy, x, y *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	b.Dense.JVP(dy, x, y, theta, dx, dtheta)
	dy.Scale(1.01, dy)
}

func (b brokenLayer) VJP(dx *mat.Dense, dtheta []float64, x, y *mat.Dense, theta []float64, g *mat.Dense) {
	b.Dense.VJP(dx, dtheta, x, y, theta, g)
	for o := 0; o < b.Out && dtheta != nil; o++ {
		dtheta[o*(b.In+1)+b.In] = 0
	}
}

func TestCatchesBrokenLayer(t *testing.T) {
	rep := Layer(brokenLayer{nn.Dense{In: 3, Out: 2}}, 4, rand.New(rand.NewPCG(4, 4)), nil)
	err := rep.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JVP w.r.t. input vs central differences")
	assert.Contains(t, err.Error(), "per-sample VJP rows sum to the VJP")
	assert.Contains(t, rep.String(), "FAIL")
}

// wrongFactor is MSE with a factor of the wrong scale.
type wrongFactor struct{ nn.MSE }

func (wrongFactor) Factor(dst *mat.Dense, z, y []float64) int {
	nn.MSE{}.Factor(dst, z, y)
	dst.Scale(2, dst)
	return 0
}

func TestCatchesWrongFactor(t *testing.T) {
	rep := Loss(wrongFactor{}, 3, 2, rand.New(rand.NewPCG(5, 5)), &Options{Samples: 2000})
	err := rep.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "factor S₊S₊ᵀ − S₋S₋ᵀ = H_z")
}

func TestModelBadInput(t *testing.T) {
	net, err := nn.NewMLP([]int{2, 2}, []string{"identity"})
	require.NoError(t, err)
	_, err = Model(&curvature.Model{Net: net, Loss: nn.MSE{}}, make([]float64, 6), curvature.Batch{}, rand.New(rand.NewPCG(1, 1)), nil)
	assert.Error(t, err)
}
