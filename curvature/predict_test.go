package curvature

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// Outputs runs the samples in groups (600 samples, three groups of at most
// 256): each row equals the output of a one-sample forward pass, and the
// predictions and probabilities follow from the outputs by their
// definitions, computed here directly. The probabilities agree with the
// loss: −log p(y_i|z_i) is the per-sample loss ℓ_i.
func TestPredictions(t *testing.T) {
	nets := ioNets(t)
	for _, name := range []string{"conv", "residual mlp"} {
		for _, loss := range allLosses {
			t.Run(name+"/"+loss.Name(), func(t *testing.T) {
				f := fixtureOf(t, nets[name], loss, 600, 3)
				m, theta, x := &f.m, f.theta, f.b.X
				z, err := m.Outputs(theta, x)
				require.NoError(t, err)
				n, C := z.Dims()
				require.Equal(t, []int{600, m.Net.OutSize()}, []int{n, C})
				tape := nn.NewTape(m.Net, m.Loss)
				for i := 0; i < n; i += 37 {
					zi := tape.Forward(theta, mat.NewDense(1, m.Net.InSize(), x.RawRowView(i)))
					for k := 0; k < C; k++ {
						assert.InDelta(t, zi.At(0, k), z.At(i, k), 1e-13, "z[%d, %d]", i, k)
					}
				}

				pred, err := m.Predict(theta, x)
				require.NoError(t, err)
				tape.Forward(theta, x)
				tape.LossValue(f.b.Y)
				losses := tape.PerSampleLoss()
				prob, probErr := m.Probabilities(theta, x)
				for i := 0; i < n; i++ {
					row := z.RawRowView(i)
					switch loss.(type) {
					case nn.MSE:
						assert.Equal(t, row, pred.RawRowView(i))
						assert.ErrorContains(t, probErr, "the loss mse has no labels")
					case nn.SoftmaxCrossEntropy:
						best := 0
						sum := 0.0
						for k, v := range row {
							if v > row[best] {
								best = k
							}
							sum += math.Exp(v)
						}
						assert.Equal(t, float64(best), pred.At(i, 0))
						require.NoError(t, probErr)
						for k, v := range row {
							assert.InDelta(t, math.Exp(v)/sum, prob.At(i, k), 1e-15)
						}
						y := int(f.b.Y.At(i, 0))
						assert.InDelta(t, losses[i], -math.Log(prob.At(i, y)), 1e-12*max(1, losses[i]))
					case nn.SigmoidBCE:
						require.NoError(t, probErr)
						nll := 0.0
						for k, v := range row {
							p := 1 / (1 + math.Exp(-v))
							assert.InDelta(t, p, prob.At(i, k), 1e-15)
							assert.Equal(t, map[bool]float64{true: 1, false: 0}[v > 0], pred.At(i, k))
							y := f.b.Y.At(i, k)
							nll -= y*math.Log(p) + (1-y)*math.Log(1-p)
						}
						assert.InDelta(t, losses[i], nll, 1e-12*max(1, nll))
					}
				}
			})
		}
	}
}

// Accuracy on a linear classifier whose predictions are known by
// construction: z = x (the identity weights), so the predicted class is
// the largest input and the predicted labels the positive inputs.
func TestAccuracy(t *testing.T) {
	net, err := nn.NewMLP([]int{3, 3}, []string{"identity"})
	require.NoError(t, err)
	theta := []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0} // [I | 0]
	x := mat.NewDense(5, 3, []float64{
		3, 1, 2, // class 0; labels 1 1 1
		-1, 5, 0, // class 1; labels 0 1 0
		0, 0, 1, // class 2; labels 0 0 1
		2, 2, 1, // tie: class 0; labels 1 1 1
		-3, -2, -1, // class 2; labels 0 0 0
	})

	ce := &Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	acc, err := ce.Accuracy(theta, Batch{X: x, Y: mat.NewDense(5, 1, []float64{0, 1, 0, 1, 2})})
	require.NoError(t, err)
	assert.Equal(t, 3.0/5, acc) // rows 0, 1 and 4

	bce := &Model{Net: net, Loss: nn.SigmoidBCE{}}
	acc, err = bce.Accuracy(theta, Batch{X: x, Y: mat.NewDense(5, 3, []float64{
		1, 1, 1, // hit
		0, 0.9, 0, // hit: 0.9 counts as 1
		0, 0, 0.5, // hit: ½ counts as 1
		1, 1, 0, // miss in one label
		0.4, 0, 0, // hit: 0.4 counts as 0
	})})
	require.NoError(t, err)
	assert.Equal(t, 4.0/5, acc)

	// Many samples, run in groups: the accuracy of the 600 copies of the
	// five rows is that of the five.
	big := mat.NewDense(600, 3, nil)
	labels := mat.NewDense(600, 1, nil)
	for i := 0; i < 600; i++ {
		big.SetRow(i, x.RawRowView(i%5))
		labels.Set(i, 0, []float64{0, 1, 0, 1, 2}[i%5])
	}
	acc, err = ce.Accuracy(theta, Batch{X: big, Y: labels})
	require.NoError(t, err)
	assert.Equal(t, 3.0/5, acc)
}

// Bad models and inputs give errors.
func TestPredictionErrors(t *testing.T) {
	f := newFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 1)
	x := f.b.X
	nan := mat.DenseCopyOf(x)
	nan.Set(2, 1, math.NaN())
	_, err := f.m.Probabilities(f.theta, x)
	assert.ErrorContains(t, err, "the loss mse has no labels to give probabilities or an accuracy for (it is not an nn.Classifier)")
	_, err = f.m.Accuracy(f.theta, f.b)
	assert.ErrorContains(t, err, "not an nn.Classifier")
	_, err = f.m.Outputs(f.theta, nan)
	assert.EqualError(t, err, "curvature: input row 2 column 1 is NaN")
	_, err = f.m.Predict(f.theta[:3], x)
	assert.EqualError(t, err, "curvature: θ has length 3, the network has 26 parameters") // 4×(3+1) + 2×(4+1)
	_, err = f.m.Predict(f.theta, mat.NewDense(2, 2, nil))
	assert.EqualError(t, err, "curvature: inputs have 2 columns, the network takes 3")
	_, err = f.m.Outputs(f.theta, nil)
	assert.EqualError(t, err, "curvature: no inputs")
	_, err = (&Model{Net: f.m.Net}).Outputs(f.theta, x)
	assert.ErrorIs(t, err, errIncomplete)
	_, err = (&Model{Net: f.m.Net, Loss: plainLoss{nn.MSE{}}}).Predict(f.theta, x)
	assert.EqualError(t, err, "curvature: the loss mse makes no predictions (it is not an nn.Predictor)")
	ce := Model{Net: f.m.Net, Loss: nn.SoftmaxCrossEntropy{}}
	_, err = ce.Accuracy(f.theta, Batch{X: x, Y: mat.NewDense(4, 1, []float64{0, 1, 2, 0})})
	assert.ErrorContains(t, err, "nn: ") // the label 2 of 2 classes, from CheckTargets
}

// plainLoss is a loss without predictions.
type plainLoss struct{ nn.Loss }

// BenchmarkOutputs compares Outputs, which runs predictRows samples at a
// time, with one forward pass over the whole batch on a tape.
func BenchmarkOutputs(b *testing.B) {
	f := fixtureOf(b, ioNets(b)["conv"], nn.SoftmaxCrossEntropy{}, 4096, 1)
	b.Run("grouped", func(b *testing.B) { benchOutputs(b, f, false) })
	b.Run("whole", func(b *testing.B) { benchOutputs(b, f, true) })
}

func benchOutputs(b *testing.B, f fixture, whole bool) {
	tape := nn.NewTape(f.m.Net, f.m.Loss)
	for b.Loop() {
		if whole {
			tape.Forward(f.theta, f.b.X)
			continue
		}
		if _, err := f.m.Outputs(f.theta, f.b.X); err != nil {
			b.Fatal(err)
		}
	}
}
