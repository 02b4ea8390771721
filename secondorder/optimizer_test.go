package secondorder

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
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
