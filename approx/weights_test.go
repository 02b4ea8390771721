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

// labelled are the losses whose output Fisher is not their output Hessian,
// for networks of 4 outputs.
var labelled = []nn.Loss{nn.GaussianNLL{}, nn.WeightedSoftmaxCrossEntropy{Weights: []float64{0.5, 2, 0.25, 1.5}}}

// labelledFixture is netFixture for the labelled losses: class labels for
// the weighted cross-entropy, real targets for the Gaussian.
func labelledFixture(t testing.TB, sizes []int, acts []string, loss nn.Loss, n int, seed uint64) (*curvature.Model, []float64, curvature.Batch) {
	m, theta, b := netFixture(t, sizes, acts, loss, n, seed)
	if _, ok := loss.(nn.WeightedSoftmaxCrossEntropy); ok {
		rnd := newRand(seed + 1)
		for i := 0; i < n; i++ {
			b.Y.Set(i, 0, float64(rnd.IntN(sizes[len(sizes)-1])))
		}
	}
	return m, theta, b
}

// K-FAC approximates the Fisher: with exact factors on one sample every
// layer's kron(G, A) is the Fisher block, from the output Fisher's factor,
// for the losses whose Fisher is not their GGN.
func TestKFACExactOnOneSampleFisher(t *testing.T) {
	for _, loss := range labelled {
		t.Run(loss.Name(), func(t *testing.T) {
			m, theta, b := labelledFixture(t, []int{3, 4, 4}, []string{"tanh", "identity"}, loss, 1, 2)
			k, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: ExactFactors})
			require.NoError(t, err)
			for l := 0; l < k.NumBlocks(); l++ {
				F, err := m.Block(curvature.Fisher, l, theta, b, nil)
				require.NoError(t, err)
				G, err := m.Block(curvature.GGN, l, theta, b, nil)
				require.NoError(t, err)
				assert.Less(t, relDiffMat(kronBlock(k.Kron(l)), F), 1e-13, "layer %d", l)
				assert.Greater(t, relDiffMat(F, G), 1e-3, "layer %d: the Fisher block is not the GGN's", l)
			}
		})
	}
}

// hidden is the Gaussian negative log-likelihood without its output
// Fisher: its output Hessian factor has negative columns.
type hidden struct{ nn.Loss }

// Exact K-FAC factors of a loss whose output Hessian is indefinite and
// which has no output Fisher are refused, with θ's statistics untouched;
// the empirical factors need neither.
func TestKFACRefusesIndefiniteFactor(t *testing.T) {
	m, theta, b := labelledFixture(t, []int{3, 4, 4}, []string{"tanh", "identity"}, nn.GaussianNLL{}, 5, 3)
	m.Loss = hidden{nn.GaussianNLL{}}
	_, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: ExactFactors})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "negative columns")
	_, err = ModelEKFAC(m, theta, b, &KFACSettings{Factors: ExactFactors})
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta, b, &KFACSettings{Factors: EmpiricalFactors})
	assert.NoError(t, err)
}

// integerWeights drop a sample (0) and count others up to three times.
var integerWeights = []int{2, 0, 1, 3, 1, 2, 0, 1}

// repeatRows returns the batch whose sample i appears w[i] times, and the
// weights as floats.
func repeatRows(b curvature.Batch, w []int) (curvature.Batch, []float64) {
	_, cx := b.X.Dims()
	_, cy := b.Y.Dims()
	var xs, ys []float64
	fw := make([]float64, len(w))
	for i, k := range w {
		fw[i] = float64(k)
		for range k {
			xs = append(xs, b.X.RawRowView(i)...)
			ys = append(ys, b.Y.RawRowView(i)...)
		}
	}
	n := len(xs) / cx
	return curvature.Batch{X: mat.NewDense(n, cx, xs), Y: mat.NewDense(n, cy, ys)}, fw
}

// With integer sample weights K-FAC's factors, every kind of block, and
// EKFAC's scales equal those of the batch with each sample repeated that
// many times: on an MLP with a layer norm (a dense block), and on a layer
// that shares its weights over positions with both K-FACs of weight
// sharing.
func TestKFACWeightsRepeatRows(t *testing.T) {
	mlp, err := nn.New(nn.Dense{In: 3, Out: 5}, nn.Elementwise{Size: 5, Act: nn.Tanh{}}, nn.LayerNorm{Size: 5}, nn.Dense{In: 5, Out: 4})
	require.NoError(t, err)
	type netCase struct {
		name string
		m    *curvature.Model
		th   []float64
		b    curvature.Batch
		ws   []WeightSharing
	}
	var cases []netCase
	for _, loss := range append([]nn.Loss{nn.SoftmaxCrossEntropy{}}, labelled...) {
		m, theta, b := labelledFixture(t, []int{3, 5, 4}, []string{"tanh", "identity"}, loss, len(integerWeights), 4)
		if _, ok := loss.(nn.SoftmaxCrossEntropy); ok {
			for i := 0; i < b.Len(); i++ {
				b.Y.Set(i, 0, float64(i%4))
			}
		}
		m.Net = mlp
		theta = make([]float64, mlp.NumParams())
		mlp.Init(theta, newRand(5))
		cases = append(cases, netCase{"layernorm/" + loss.Name(), m, theta, b, []WeightSharing{Expand}})
	}
	sm, stheta, sb := sharingModel(t, shared{in: 2, out: 3, r: 3}, len(integerWeights))
	cases = append(cases, netCase{"shared", sm, stheta, sb, []WeightSharing{Expand, Reduce}})
	for _, c := range cases {
		rb, w := repeatRows(c.b, integerWeights)
		wb := c.b
		wb.W = w
		for _, ws := range c.ws {
			for _, kind := range []FactorKind{ExactFactors, EmpiricalFactors} {
				t.Run(fmt.Sprintf("%s/%v/%d", c.name, kind, ws), func(t *testing.T) {
					set := &KFACSettings{Factors: kind, WeightSharing: ws}
					got, err := ModelEKFAC(c.m, c.th, wb, set)
					require.NoError(t, err)
					want, err := ModelEKFAC(c.m, c.th, rb, set)
					require.NoError(t, err)
					assert.Less(t, relDiffMat(got.KFAC().Dense(), want.KFAC().Dense()), 1e-13, "K-FAC")
					for l := 0; l < got.NumBlocks(); l++ {
						if kr := got.KFAC().Kron(l); kr != nil {
							g, a := kr.Factors()
							wg, wa := want.KFAC().Kron(l).Factors()
							assert.Less(t, relDiffMat(g, wg), 1e-13, "G of layer %d", l)
							assert.Less(t, relDiffMat(a, wa), 1e-13, "A of layer %d", l)
						}
						gb, _ := got.Block(l)
						wbk, _ := want.Block(l)
						if e, ok := gb.(*EigenKron); ok {
							assert.Less(t, relDiff(e.Scaling(), wbk.(*EigenKron).Scaling()), 1e-12, "EKFAC scales of layer %d", l)
						}
					}
				})
			}
		}
	}
}

// The weighted EKFAC's scales are the diagonal of QᵀMQ for the weighted
// matrix its factors approximate (EKFACOf from the dense matrix, another
// route), for the losses whose exact factors take the output Fisher.
func TestModelEKFACWeighted(t *testing.T) {
	for _, loss := range labelled {
		m, theta, b := labelledFixture(t, []int{3, 5, 4}, []string{"tanh", "identity"}, loss, 9, 6)
		b.W = []float64{0.5, 2, 0, 1, 1.5, 0.25, 3, 1, 0.75}
		for _, c := range []ekfacCase{
			{KFACSettings{Factors: ExactFactors}, curvature.Fisher, nil},
			{KFACSettings{Factors: MCFactors, Samples: 2, Seed: 7}, curvature.MCFisher, &curvature.Options{Samples: 2, Seed: 7}},
			{KFACSettings{Factors: EmpiricalFactors}, curvature.EmpiricalFisher, nil},
		} {
			t.Run(fmt.Sprintf("%s/%v", loss.Name(), c.ks.Factors), func(t *testing.T) {
				ek, err := ModelEKFAC(m, theta, b, &c.ks)
				require.NoError(t, err)
				M, err := m.Dense(c.matrix, theta, b, c.opt)
				require.NoError(t, err)
				best, err := EKFACOf(ek.KFAC(), M)
				require.NoError(t, err)
				for l := 0; l < ek.NumBlocks(); l++ {
					got, _ := ek.Block(l)
					want, _ := best.Block(l)
					assert.Less(t, relDiff(got.(*EigenKron).Scaling(), want.(*EigenKron).Scaling()), 1e-11, "layer %d scales", l)
				}
			})
		}
	}
}

// TONGA weighs every gradient 1: a weighted batch is refused.
func TestTONGARefusesWeights(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	b.W = []float64{1, 2, 1, 1}
	_, err := ModelTONGA(m, theta, b, PerLayer, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sample weights")
}
