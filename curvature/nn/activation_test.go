package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
)

var activationNames = []string{"identity", "tanh", "sigmoid", "relu", "softplus", "elu", "gelu"}

// Derivatives against central differences of the function one order down,
// at points away from the kinks of relu and elu.
func TestActivationDerivatives(t *testing.T) {
	points := []float64{-3.1, -1.7, -0.4, 0.3, 0.9, 2.2, 5.5}
	for _, name := range activationNames {
		t.Run(name, func(t *testing.T) {
			act, err := ActivationByName(name)
			require.NoError(t, err)
			at := func(f func(dst, s, a []float64), x float64) float64 {
				s := []float64{x}
				a := make([]float64, 1)
				act.Apply(a, s)
				out := make([]float64, 1)
				f(out, s, a)
				return out[0]
			}
			apply := func(dst, s, _ []float64) { act.Apply(dst, s) }
			for _, x := range points {
				d1 := fd.Derivative(func(x float64) float64 { return at(apply, x) }, x, &fd.Settings{Formula: fd.Central})
				assert.InDelta(t, d1, at(act.Deriv, x), 1e-7, "φ' at %v", x)
				d2 := fd.Derivative(func(x float64) float64 { return at(act.Deriv, x) }, x, &fd.Settings{Formula: fd.Central})
				assert.InDelta(t, d2, at(act.Deriv2, x), 1e-7, "φ'' at %v", x)
			}
		})
	}
}

// Closed-form values that the implementations must not drift from.
func TestActivationValues(t *testing.T) {
	cases := []struct {
		name string
		x, y float64
	}{
		{"tanh", 0.5, math.Tanh(0.5)},
		{"sigmoid", -40, 1 / (1 + math.Exp(40))},
		{"softplus", 800, 800}, // no overflow
		{"softplus", -1, math.Log1p(math.Exp(-1))},
		{"relu", -2, 0},
		{"elu", -1, math.Exp(-1) - 1},
		{"gelu", 1, 0.8413447460685429}, // Φ(1), from tables of the normal distribution
	}
	for _, c := range cases {
		act, err := ActivationByName(c.name)
		require.NoError(t, err)
		out := make([]float64, 1)
		act.Apply(out, []float64{c.x})
		assert.InDelta(t, c.y, out[0], 1e-15*max(1, math.Abs(c.y)), "%s(%v)", c.name, c.x)
	}
}

func TestActivationByNameUnknown(t *testing.T) {
	_, err := ActivationByName("swish")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "swish")
}

// The one-pass products of the backward passes give the bits of Deriv
// followed by the product.
func TestDerivTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, name := range activationNames {
		act, err := ActivationByName(name)
		require.NoError(t, err)
		fused, ok := act.(derivTimeser)
		if !ok {
			continue
		}
		s, v := make([]float64, 37), make([]float64, 37)
		for i := range s {
			s[i], v[i] = 3*rng.NormFloat64(), rng.NormFloat64()
		}
		a := make([]float64, len(s))
		act.Apply(a, s)
		got, want := make([]float64, len(s)), make([]float64, len(s))
		fused.derivTimes(got, s, a, v)
		act.Deriv(want, s, a)
		for i := range want {
			want[i] *= v[i]
		}
		assert.Equal(t, want, got, name)
	}
}
