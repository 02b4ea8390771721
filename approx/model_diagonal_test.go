package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

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
