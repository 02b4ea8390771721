package curvature

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// The diagonal of every kind equals the diagonal of the dense matrix, on an
// MLP (per-sample second derivatives) and on a network outside the MLP
// pattern (operator products).
func TestDiagonal(t *testing.T) {
	generic, err := nn.New(nn.Dense{In: 3, Out: 4}, nn.Elementwise{Size: 4, Act: nn.Tanh{}}, nn.Elementwise{Size: 4, Act: nn.Softplus{}}, nn.Dense{In: 4, Out: 3})
	require.NoError(t, err)
	fixtures := map[string]fixture{
		"mlp":     newFixture(t, []int{3, 5, 4, 3}, []string{"tanh", "gelu", "identity"}, nn.SoftmaxCrossEntropy{}, 300, 40),
		"generic": fixtureOf(t, generic, nn.SigmoidBCE{}, 9, 41),
	}
	for name, f := range fixtures {
		for _, k := range Kinds {
			t.Run(name+"/"+k.String(), func(t *testing.T) {
				opt := &Options{Samples: 2, Seed: 4}
				d, err := f.m.Diagonal(k, f.theta, f.b, opt)
				require.NoError(t, err)
				dense := f.dense(t, k, opt)
				want := mat.NewVecDense(len(f.theta), nil)
				for j := range f.theta {
					want.SetVec(j, dense.At(j, j))
				}
				assert.Less(t, relErr(mat.NewVecDense(len(d), d), want), 1e-12)
			})
		}
	}
}
