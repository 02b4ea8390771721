package approx

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/randmat"
)

func TestDiagonalOfEqualsDiag(t *testing.T) {
	rnd := newRand(1)
	m := randSPD(rnd, 12, 0.1)
	d, err := DiagonalOf(m, 0)
	require.NoError(t, err)
	dense := d.Dense()
	for i := 0; i < 12; i++ {
		for j := 0; j < 12; j++ {
			want := 0.0
			if i == j {
				want = m.At(i, i)
			}
			assert.Equal(t, want, dense.At(i, j), "entry %d,%d", i, j)
		}
	}
	checkDense(t, d, dense, randmat.Vec(rnd, 12), []float64{0, 0.3}, 1e-15, 1e-13, 1e-12)
	assert.InDelta(t, mat.Trace(m), d.Trace(), 1e-12)
	assert.Equal(t, 12, d.Floats())
}

func TestDiagonalErrors(t *testing.T) {
	d, err := NewDiagonal([]float64{1, -2, 3}, 0)
	require.NoError(t, err)
	x := make([]float64, 3)
	v := []float64{1, 1, 1}
	err = d.SolveDampedTo(x, v, 1)
	assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite), "got %v", err)
	assert.NoError(t, d.SolveDampedTo(x, v, 2.5))
	_, err = d.LogDet(0)
	assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite))
	assert.Error(t, d.SolveDampedTo(x, v, -1))
	assert.Error(t, d.SolveDampedTo(x, v, math.NaN()))

	_, err = NewDiagonal([]float64{1, math.NaN()}, 0)
	assert.Error(t, err)
	_, err = NewDiagonal(nil, 0)
	assert.Error(t, err)
	_, err = NewDiagonal(make([]float64, 10), 5)
	var be *curvature.BudgetError
	assert.True(t, errors.As(err, &be))
}

func TestDiagonalMulMat(t *testing.T) {
	rnd := newRand(3)
	d, _ := NewDiagonal([]float64{1, -2, 3}, 0)
	v := randDense(rnd, 3, 4)
	var want mat.Dense
	want.Mul(d.Dense(), v)
	got := mat.NewDense(3, 4, nil)
	d.MulMatTo(got, v)
	assert.Equal(t, 0.0, relDiffMat(got, &want))
	var empty mat.Dense
	d.MulMatTo(&empty, v)
	assert.Equal(t, 0.0, relDiffMat(&empty, &want))
}

// The diagonal of every kind is the diagonal of the dense matrix that
// curvature.Model.Dense assembles by a different route (Kronecker blocks
// or Gram matrices of per-sample gradients); the Monte-Carlo Fisher with the
// same seed sees the same labels.
func TestModelDiagonalEqualsDense(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, loss, 9, 11)
		for _, kind := range curvature.Kinds {
			t.Run(loss.Name()+"/"+kind.String(), func(t *testing.T) {
				opt := &curvature.Options{Samples: 3, Seed: 5}
				d, err := ModelDiagonal(m, kind, theta, b, opt)
				require.NoError(t, err)
				dense, err := m.Dense(kind, theta, b, opt)
				require.NoError(t, err)
				want := make([]float64, dense.SymmetricDim())
				for i := range want {
					want[i] = dense.At(i, i)
				}
				assert.Less(t, relDiff(d.Values(), want), 1e-12)
			})
		}
	}
}

func TestModelDiagonalErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 14)
	bad := append([]float64(nil), theta...)
	bad[0] = math.NaN()
	cases := []struct {
		name string
		run  func() error
	}{
		{"NaN θ", func() error { _, err := ModelDiagonal(m, curvature.GGN, bad, b, nil); return err }},
		{"unknown kind", func() error { _, err := ModelDiagonal(m, curvature.Kind(99), theta, b, nil); return err }},
		{"budget", func() error {
			_, err := ModelDiagonal(m, curvature.GGN, theta, b, &curvature.Options{Budget: 3})
			return err
		}},
		{"empty batch", func() error {
			_, err := ModelDiagonal(m, curvature.Hessian, theta, curvature.Batch{X: &mat.Dense{}, Y: &mat.Dense{}}, nil)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Error(t, c.run()) })
	}
}
