package secondorder

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
)

// FirstOrder steps with the batch's mean-loss gradient: plain SGD moves θ
// by −η∇L exactly, and the record's norms and loss are those of that
// gradient, computed here through the objective.
func TestFirstOrder(t *testing.T) {
	const lr = 0.3
	m, theta, set := digitsModel(t, 5, 31)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 40, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 40, 0, 1))}
	sgd, err := firstorder.NewSGD(len(theta), firstorder.SGDSettings{LR: lr})
	require.NoError(t, err)
	opt, err := NewFirstOrder(m, sgd)
	require.NoError(t, err)
	opt.RecordLoss = true
	obj, err := m.Objective(b)
	require.NoError(t, err)
	for step := 1; step <= 3; step++ {
		g := make([]float64, len(theta))
		obj.Grad(g, theta)
		want := append([]float64(nil), theta...)
		floats.AddScaled(want, -lr, g)
		loss := obj.Func(theta)
		rec, err := opt.Step(theta, b)
		require.NoError(t, err)
		assert.Equal(t, step, rec.Step)
		assert.True(t, rec.Accepted)
		assert.InDelta(t, loss, rec.Loss, 1e-14*loss)
		assert.InDelta(t, floats.Norm(g, 2), rec.GradNorm, 1e-12*rec.GradNorm)
		assert.InDelta(t, lr*floats.Norm(g, 2), rec.StepNorm, 1e-12*rec.StepNorm)
		assert.True(t, math.IsNaN(rec.Lambda) && math.IsNaN(rec.Rho))
		assert.Equal(t, Counts{Func: 1, Grad: 1}, rec.Spent)
		for i := range want {
			assert.InDelta(t, want[i], theta[i], 1e-15*(1+math.Abs(want[i])))
		}
	}
	opt.RecordLoss = false
	rec, err := opt.Step(theta, b)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(rec.Loss), "no loss unless asked for")
	assert.Equal(t, Counts{Grad: 1}, rec.Spent)

	// Bad data: an error and θ unchanged; a bad optimizer: an error.
	bad := curvature.Batch{X: mat.DenseCopyOf(b.X), Y: b.Y}
	bad.X.Set(0, 0, math.NaN())
	before := append([]float64(nil), theta...)
	_, err = opt.Step(theta, bad)
	assert.Error(t, err)
	assert.Equal(t, before, theta)
	short, _ := firstorder.NewSGD(3, firstorder.SGDSettings{LR: lr})
	_, err = NewFirstOrder(m, short)
	assert.Error(t, err)
	_, err = NewFirstOrder(m, nil)
	assert.Error(t, err)
	_, err = NewFirstOrder(&curvature.Model{}, sgd)
	assert.Error(t, err)
}

// weightedProblem is an MLP with loss on a batch of 8 samples, sample
// weights that drop one sample and count others up to three times, and the
// batch with every sample repeated that many times.
func weightedProblem(t *testing.T, loss nn.Loss, out int) (*curvature.Model, []float64, curvature.Batch, curvature.Batch) {
	t.Helper()
	net, err := nn.NewMLP([]int{3, 6, out}, []string{"tanh", "identity"})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(61, 1))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	counts := []int{2, 0, 1, 3, 1, 2, 1, 1}
	n := len(counts)
	x := mat.NewDense(n, 3, nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rng.NormFloat64()
	}
	T := loss.TargetDim(out)
	y := mat.NewDense(n, T, nil)
	for i := 0; i < n; i++ {
		for k := 0; k < T; k++ {
			if T == 1 {
				y.Set(i, 0, float64(rng.IntN(out)))
			} else {
				y.Set(i, k, rng.NormFloat64())
			}
		}
	}
	w := make([]float64, n)
	var xs, ys []float64
	for i, c := range counts {
		w[i] = float64(c)
		for range c {
			xs = append(xs, x.RawRowView(i)...)
			ys = append(ys, y.RawRowView(i)...)
		}
	}
	r := len(xs) / 3
	return &curvature.Model{Net: net, Loss: loss}, theta,
		curvature.Batch{X: x, Y: y, W: w}, curvature.Batch{X: mat.NewDense(r, 3, xs), Y: mat.NewDense(r, T, ys)}
}

// Each optimizer takes the same steps on a weighted batch as on the batch
// with each sample repeated its weight's number of times: the weights
// reach the loss, the gradient and every curvature the optimizers use
// (K-FAC's factors and quadratic model with the output Fisher of the
// Gaussian negative log-likelihood, the natural gradient's K-FAC, the
// Hessian-free GGN products).
func TestStepsWithWeightsRepeatRows(t *testing.T) {
	optimizers := map[string]func(m *curvature.Model, P int) (Optimizer, error){
		"first-order": func(m *curvature.Model, P int) (Optimizer, error) {
			sgd, err := firstorder.NewSGD(P, firstorder.SGDSettings{LR: 0.05})
			if err != nil {
				return nil, err
			}
			return NewFirstOrder(m, sgd)
		},
		"natural gradient": func(m *curvature.Model, _ int) (Optimizer, error) {
			return NewNaturalGradient(m, nil)
		},
		"K-FAC": func(m *curvature.Model, _ int) (Optimizer, error) {
			return NewKFAC(m, &KFACSettings{Factors: approx.ExactFactors, StatsFraction: 1, ModelFraction: 1, DampingInterval: 1})
		},
		"Hessian-free": func(m *curvature.Model, _ int) (Optimizer, error) {
			return NewHessianFree(m, nil)
		},
	}
	for _, c := range []struct {
		loss nn.Loss
		out  int
	}{{nn.SoftmaxCrossEntropy{}, 3}, {nn.GaussianNLL{}, 4}, {nn.WeightedSoftmaxCrossEntropy{Weights: []float64{2, 0.5, 1}}, 3}} {
		for name, newOpt := range optimizers {
			t.Run(c.loss.Name()+"/"+name, func(t *testing.T) {
				m, theta0, wb, rb := weightedProblem(t, c.loss, c.out)
				thw, thr := append([]float64(nil), theta0...), append([]float64(nil), theta0...)
				ow, err := newOpt(m, len(theta0))
				require.NoError(t, err)
				or, err := newOpt(m, len(theta0))
				require.NoError(t, err)
				for step := range 3 {
					rw, err := ow.Step(thw, wb)
					require.NoError(t, err)
					rr, err := or.Step(thr, rb)
					require.NoError(t, err)
					// Rounding differs between the two sums, and conjugate
					// gradients on the Gaussian's indefinite GGN amplify it.
					assert.InDelta(t, rr.Loss, rw.Loss, 1e-9*(1+math.Abs(rr.Loss)), "loss at step %d", step)
					assert.Less(t, floats.Distance(thw, thr, 2), 1e-9*floats.Norm(thr, 2), "θ after step %d", step)
				}
				assert.Greater(t, floats.Distance(thw, theta0, 2), 1e-3, "the steps moved θ")
			})
		}
	}
}

// A prefix of the batch that weighs nothing, which K-FAC's statistics or
// model or the Hessian-free curvature would take alone, is refused with θ
// unchanged.
func TestZeroWeightPrefix(t *testing.T) {
	m, theta, wb, _ := weightedProblem(t, nn.SoftmaxCrossEntropy{}, 3)
	wb.W = []float64{0, 0, 1, 1, 1, 1, 1, 1}
	before := append([]float64(nil), theta...)
	k, err := NewKFAC(m, &KFACSettings{StatsFraction: 0.25})
	require.NoError(t, err)
	_, err = k.Step(theta, wb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "StatsFraction")
	h, err := NewHessianFree(m, &HessianFreeSettings{CurvatureFraction: 0.25})
	require.NoError(t, err)
	_, err = h.Step(theta, wb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CurvatureFraction")
	assert.Equal(t, before, theta)
}
