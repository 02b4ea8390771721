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

// allLosses are the losses of package nn for 4 outputs.
var allLosses = []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}, nn.GaussianNLL{},
	nn.WeightedSoftmaxCrossEntropy{Weights: []float64{0.5, 2, 1, 0.1}}}

// Every loss of package nn passes, with 3 outputs where it can and with 4:
// the Gaussian negative log-likelihood's output Fisher by quadrature, the
// labels' by enumeration.
func TestOwnLosses(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		rep := Loss(loss, 3, 4, rand.New(rand.NewPCG(2, 2)), nil)
		assert.NoError(t, rep.Err(), rep.String())
	}
	for _, loss := range allLosses {
		rep := Loss(loss, 4, 4, rand.New(rand.NewPCG(2, 2)), nil)
		assert.NoError(t, rep.Err(), rep.String())
		assert.Contains(t, rep.String(), "(exact, ", "%s: the output Fisher is checked exactly", loss.Name())
	}
}

// An MLP with each loss passes the model checks, and so does one on a
// batch with sample weights (one of them 0).
func TestOwnModels(t *testing.T) {
	for _, c := range []struct {
		loss nn.Loss
		out  int
	}{{nn.MSE{}, 3}, {nn.SoftmaxCrossEntropy{}, 3}, {nn.SigmoidBCE{}, 3}, {allLosses[3], 4}, {allLosses[4], 4}} {
		for _, w := range [][]float64{nil, {1, 0, 2.5, 0.5, 1}} {
			net, err := nn.NewMLP([]int{3, 4, c.out}, []string{"tanh", "identity"})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(3, 3))
			theta := make([]float64, net.NumParams())
			net.Init(theta, rng)
			x := randMat(5, 3, rng)
			y := mat.NewDense(5, c.loss.TargetDim(c.out), nil)
			z := nn.NewTape(net, c.loss).Forward(theta, x)
			for i := 0; i < 5; i++ {
				c.loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
			}
			rep, err := Model(&curvature.Model{Net: net, Loss: c.loss}, theta, curvature.Batch{X: x, Y: y, W: w}, rng, &Options{Samples: 4000})
			require.NoError(t, err)
			assert.NoError(t, rep.Err(), rep.String())
		}
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

// unsigned is the Gaussian negative log-likelihood whose factor says none
// of its columns is negative.
type unsigned struct{ nn.GaussianNLL }

func (u unsigned) Factor(dst *mat.Dense, z, y []float64) int {
	u.GaussianNLL.Factor(dst, z, y)
	return 0
}

// hiddenFisher is class-weighted cross-entropy without its output Fisher:
// the output Fisher is then taken to be H_z, which depends on the label.
type hiddenFisher struct{ nn.Classifier }

func (h hiddenFisher) loss() nn.WeightedSoftmaxCrossEntropy {
	return h.Classifier.(nn.WeightedSoftmaxCrossEntropy)
}
func (h hiddenFisher) Name() string                                 { return "hidden" }
func (h hiddenFisher) TargetDim(c int) int                          { return 1 }
func (h hiddenFisher) CheckTargets(y *mat.Dense, c int) error       { return h.loss().CheckTargets(y, c) }
func (h hiddenFisher) Value(dst []float64, z, y *mat.Dense) float64 { return h.loss().Value(dst, z, y) }
func (h hiddenFisher) Grad(dst, z, y *mat.Dense)                    { h.loss().Grad(dst, z, y) }
func (h hiddenFisher) HessVec(dst, z, y, v *mat.Dense)              { h.loss().HessVec(dst, z, y, v) }
func (h hiddenFisher) Hessian(dst *mat.SymDense, z, y []float64)    { h.loss().Hessian(dst, z, y) }
func (h hiddenFisher) Factor(dst *mat.Dense, z, y []float64) int    { return h.loss().Factor(dst, z, y) }
func (h hiddenFisher) Sample(dst, z []float64, rng *rand.Rand)      { h.loss().Sample(dst, z, rng) }

// A factor with unsigned negative columns fails the factor identity (and
// its H_z has more negative eigenvalues than it says); a loss whose H_z
// depends on the label but has no output Fisher of its own fails the
// exact Fisher check and the sampler's.
func TestCatchesWrongCurvature(t *testing.T) {
	rep := Loss(unsigned{}, 4, 3, rand.New(rand.NewPCG(6, 6)), &Options{Samples: 2000})
	require.Error(t, rep.Err())
	assert.Contains(t, rep.Err().Error(), "factor S₊S₊ᵀ − S₋S₋ᵀ = H_z")
	assert.Contains(t, rep.Err().Error(), "at most neg negative eigenvalues")

	rep = Loss(hiddenFisher{nn.WeightedSoftmaxCrossEntropy{Weights: []float64{0.2, 3, 1}}}, 3, 3, rand.New(rand.NewPCG(7, 7)), &Options{Samples: 2000})
	require.Error(t, rep.Err())
	assert.Contains(t, rep.Err().Error(), "output Fisher: E_y[∇ℓ∇ℓᵀ] (exact, C labels) = H_z")
	assert.Contains(t, rep.Err().Error(), "sampler")
}

func TestModelBadInput(t *testing.T) {
	net, err := nn.NewMLP([]int{2, 2}, []string{"identity"})
	require.NoError(t, err)
	_, err = Model(&curvature.Model{Net: net, Loss: nn.MSE{}}, make([]float64, 6), curvature.Batch{}, rand.New(rand.NewPCG(1, 1)), nil)
	assert.Error(t, err)
}
