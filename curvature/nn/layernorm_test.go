package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Forward against a direct computation with gonum's population (biased)
// mean and variance, which is what torch.nn.LayerNorm normalises by, on
// feature vectors and on C×H×W tensors normalised over W.
func TestLayerNormForward(t *testing.T) {
	for _, c := range []struct {
		name    string
		size, d int
		eps     float64
	}{
		{"vector", 7, 0, 0},
		{"vector, explicit D and ε", 5, 5, 1e-3},
		{"2×3×4 over W", 24, 4, 0},
		{"1×2×3 over W", 6, 3, 1e-2},
		{"groups of one", 3, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			l := LayerNorm{Size: c.size, Normalized: c.d, Eps: c.eps}
			D, eps := c.d, c.eps
			if D == 0 {
				D = c.size
			}
			if eps == 0 {
				eps = 1e-5
			}
			require.Equal(t, 2*D, l.NumParams())
			theta := make([]float64, 2*D)
			for i := range theta {
				theta[i] = rng.NormFloat64()
			}
			const n = 3
			x := randomDense(n, c.size, rng)
			y := mat.NewDense(n, c.size, nil)
			l.Forward(y, x, theta)
			for i := 0; i < n; i++ {
				for g := 0; g < c.size; g += D {
					grp := x.RawRowView(i)[g : g+D]
					mu, v := stat.PopMeanVariance(grp, nil)
					for j, xv := range grp {
						want := theta[j]*(xv-mu)/math.Sqrt(v+eps) + theta[D+j]
						assert.InDelta(t, want, y.At(i, g+j), 1e-12, "sample %d feature %d", i, g+j)
					}
				}
			}
		})
	}
}

// torch.nn.LayerNorm(4)(torch.tensor([1., 2., 3., 4.])) prints
// tensor([-1.3416, -0.4472, 0.4472, 1.3416]): the biased variance 1.25, not
// the sample variance 5/3 (which would give ±1.1619, ±0.3873).
func TestLayerNormPyTorchValue(t *testing.T) {
	l := LayerNorm{Size: 4}
	theta := make([]float64, l.NumParams())
	l.Init(theta, Identity{}, nil)
	assert.Equal(t, []float64{1, 1, 1, 1, 0, 0, 0, 0}, theta, "γ = 1, β = 0")
	y := mat.NewDense(1, 4, nil)
	l.Forward(y, mat.NewDense(1, 4, []float64{1, 2, 3, 4}), theta)
	want := []float64{-1.3416, -0.4472, 0.4472, 1.3416}
	for j, w := range want {
		assert.InDelta(t, w, y.At(0, j), 5e-5, "feature %d", j)
	}
}

// Inconsistent settings are refused when the network is built, naming the
// layer and the sizes.
func TestLayerNormValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		l    LayerNorm
		msg  string
	}{
		{"D does not divide the row", LayerNorm{Size: 10, Normalized: 4}, "groups of 4 does not divide 10"},
		{"negative D", LayerNorm{Size: 10, Normalized: -2}, "groups of -2"},
		{"negative ε", LayerNorm{Size: 4, Eps: -1e-5}, "ε is -1e-05"},
		{"NaN ε", LayerNorm{Size: 4, Eps: math.NaN()}, "ε is NaN"},
		{"infinite ε", LayerNorm{Size: 4, Eps: math.Inf(1)}, "ε is +Inf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Dense{In: 3, Out: c.l.Size}, c.l)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "layer 1")
			assert.Contains(t, err.Error(), c.msg)
			assert.Panics(t, func() { c.l.Init(make([]float64, 8), Identity{}, nil) })
		})
	}
	assert.NoError(t, LayerNorm{Size: 12, Normalized: 4}.Validate())
}
