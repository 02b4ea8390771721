package curvature

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature/nn"
)

// Sums over two parts of a batch merge into the sum over the whole batch,
// for every kind, and the worker count changes the result only by rounding.
func TestSumMerge(t *testing.T) {
	f := newFixture(t, []int{3, 5, 3}, []string{"tanh", "identity"}, nn.SigmoidBCE{}, 70, 30)
	n := f.b.Len()
	for _, k := range Kinds {
		if k == MCFisher {
			continue // sampled labels differ between the parts and the whole
		}
		t.Run(k.String(), func(t *testing.T) {
			one := &Options{Workers: 1}
			whole, err := f.m.DenseSum(k, f.theta, f.b, one)
			require.NoError(t, err)
			a, err := f.m.DenseSum(k, f.theta, rows(f.b, 0, 23), one)
			require.NoError(t, err)
			b, err := f.m.DenseSum(k, f.theta, rows(f.b, 23, n), one)
			require.NoError(t, err)
			require.NoError(t, a.Merge(b))
			assert.Equal(t, n, a.N)
			assert.Less(t, relErr(a.Mean(), whole.Mean()), 1e-13)

			two, err := f.m.Dense(k, f.theta, f.b, &Options{Workers: 2})
			require.NoError(t, err)
			assert.Less(t, relErr(two, whole.Mean()), 1e-13)
		})
	}
	g, err := f.m.DenseSum(GGN, f.theta, f.b, nil)
	require.NoError(t, err)
	h, err := f.m.DenseSum(Hessian, f.theta, f.b, nil)
	require.NoError(t, err)
	assert.Error(t, g.Merge(h), "different kinds do not merge")
}

// The same seed gives the same Monte-Carlo Fisher, whatever the worker
// count: labels are drawn before the batch is split.
func TestMCFisherReproducible(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 80, 31)
	a, err := f.m.Dense(MCFisher, f.theta, f.b, &Options{Samples: 3, Seed: 9, Workers: 1})
	require.NoError(t, err)
	b, err := f.m.Dense(MCFisher, f.theta, f.b, &Options{Samples: 3, Seed: 9, Workers: 1})
	require.NoError(t, err)
	assert.Equal(t, a.RawSymmetric().Data, b.RawSymmetric().Data)
	c, err := f.m.Dense(MCFisher, f.theta, f.b, &Options{Samples: 3, Seed: 9, Workers: 2})
	require.NoError(t, err)
	assert.Less(t, relErr(c, a), 1e-13)
	d, err := f.m.Dense(MCFisher, f.theta, f.b, &Options{Samples: 3, Seed: 10, Workers: 1})
	require.NoError(t, err)
	assert.Greater(t, relErr(d, a), 1e-6, "another seed, other labels")
}
