package secondorder

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
)

// K-FAC forms a convolution's factors with the weight sharing its settings
// name: after the first step (whose running average is the statistics
// alone), the factors of every Kronecker layer are those approx.ModelKFAC
// gives on the same rows, and they differ between Expand and Reduce on the
// convolution, which shares its weights over 36 locations. A value that is
// neither is refused as a setting.
func TestKFACWeightSharing(t *testing.T) {
	set, err := data.Digits()
	require.NoError(t, err)
	net, err := nn.New(
		nn.Conv2d{In: 1, Out: 3, H: 8, W: 8, Kernel: [2]int{3, 3}}, // the digits as 1×8×8 images
		nn.Elementwise{Size: 3 * 6 * 6, Act: nn.Tanh{}},
		nn.AvgPool2d{C: 3, H: 6, W: 6, Kernel: [2]int{2, 2}},
		nn.Flatten{C: 3, H: 3, W: 3},
		nn.Dense{In: 27, Out: 10},
	)
	require.NoError(t, err)
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta0 := make([]float64, net.NumParams())
	net.Init(theta0, rand.New(rand.NewPCG(1, 1)))
	batch := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 32, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 32, 0, 1))}

	convG := map[approx.WeightSharing]*mat.SymDense{}
	for _, ws := range []approx.WeightSharing{approx.Expand, approx.Reduce} {
		opt, err := NewKFAC(m, &KFACSettings{Factors: approx.ExactFactors, WeightSharing: ws, StatsFraction: 1})
		require.NoError(t, err)
		assert.Equal(t, ws, opt.Curvature().Settings().WeightSharing)
		theta := append([]float64(nil), theta0...)
		_, err = opt.Step(theta, batch)
		require.NoError(t, err)
		want, err := approx.ModelKFAC(m, theta0, batch, &approx.KFACSettings{Factors: approx.ExactFactors, WeightSharing: ws})
		require.NoError(t, err)
		// The blocks are the layers with parameters: the convolution, then
		// the dense layer.
		for b := range 2 {
			g, a := opt.Curvature().Kron(b).Factors()
			wg, wa := want.Kron(b).Factors()
			// The same sums, up to the running average's arithmetic.
			assert.True(t, mat.EqualApprox(g, wg, 1e-12), "%v: G of block %d", ws, b)
			assert.True(t, mat.EqualApprox(a, wa, 1e-12), "%v: A of block %d", ws, b)
		}
		convG[ws], _ = opt.Curvature().Kron(0).Factors()
	}
	assert.False(t, mat.EqualApprox(convG[approx.Expand], convG[approx.Reduce], 1e-3), "Expand and Reduce give the convolution the same G")

	_, err = NewKFAC(m, &KFACSettings{WeightSharing: 7})
	var se *SettingError
	assert.ErrorAs(t, err, &se)
}
