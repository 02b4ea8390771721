package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/mat"
)

// Predictions at edge cases: ties go to the first class, a NaN counts as
// the largest (torch.argmax's rules), a logit of exactly 0 predicts label
// 0 (σ(0) = ½ is not above ½), and logits far out give probabilities
// without overflow that sum to 1 (closed forms: softmax([0, −800]) =
// [1, e^−800 = 0 in float64], σ(±800) = 1 and e^−800).
func TestPredictEdges(t *testing.T) {
	z := mat.NewDense(4, 3, []float64{
		1, 3, 3,
		math.NaN(), 5, math.NaN(),
		0, -800, -800,
		800, 0, -800,
	})
	pred := mat.NewDense(4, 1, nil)
	SoftmaxCrossEntropy{}.Predict(pred, z)
	assert.Equal(t, []float64{1, 0, 0, 0}, pred.RawMatrix().Data)

	prob := mat.NewDense(4, 3, nil)
	SoftmaxCrossEntropy{}.Probabilities(prob, z)
	assert.Equal(t, []float64{1, 0, 0}, prob.RawRowView(2))
	assert.Equal(t, []float64{1, 0, 0}, prob.RawRowView(3))
	e := math.Exp(2) // row 0: softmax([1, 3, 3]) = [1, e², e²]/(1 + 2e²)
	assert.InDeltaSlice(t, []float64{1 / (1 + 2*e), e / (1 + 2*e), e / (1 + 2*e)}, prob.RawRowView(0), 1e-16)

	labels := mat.NewDense(4, 3, nil)
	SigmoidBCE{}.Predict(labels, z)
	assert.Equal(t, []float64{1, 0, 0}, labels.RawRowView(3))
	assert.Equal(t, []float64{0, 1, 0}, labels.RawRowView(1), "NaN is not above 0")
	SigmoidBCE{}.Probabilities(prob, z)
	assert.Equal(t, []float64{1, 0.5, math.Exp(-800)}, prob.RawRowView(3))

	assert.PanicsWithValue(t, "nn: softmax_ce predictions of 4 outputs in a 4×3 matrix, want 4×1", func() {
		SoftmaxCrossEntropy{}.Predict(prob, z)
	})
	out := mat.NewDense(4, 3, nil)
	MSE{}.Predict(out, z)
	for i, v := range z.RawMatrix().Data {
		assert.Equal(t, math.Float64bits(v), math.Float64bits(out.RawMatrix().Data[i]), "MSE predicts z itself")
	}
}
