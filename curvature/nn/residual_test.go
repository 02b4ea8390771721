package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// residualNets are networks with skip edges: a residual MLP with LayerNorm
// inside, nested blocks (one inside another, and two ending at the same
// layer), and one block from the input to the output.
func residualNets() []namedLayers {
	tanh := func(n int) Layer { return Elementwise{Size: n, Act: Tanh{}} }
	return []namedLayers{
		{"mlp with layer norm", []Layer{
			Dense{In: 6, Out: 8}, tanh(8),
			Residual(Dense{In: 8, Out: 8}, tanh(8), LayerNorm{Size: 8}, Dense{In: 8, Out: 8}),
			Dense{In: 8, Out: 3},
		}},
		{"nested", []Layer{
			Dense{In: 4, Out: 6},
			Residual(Dense{In: 6, Out: 6}, tanh(6), Residual(Dense{In: 6, Out: 6}, Elementwise{Size: 6, Act: Sigmoid{}}), LayerNorm{Size: 6, Normalized: 3}),
			Residual(Residual(Dense{In: 6, Out: 6}, tanh(6))),
			Dense{In: 6, Out: 3},
		}},
		{"input to output", []Layer{
			Residual(Dense{In: 3, Out: 4}, tanh(4), Dense{In: 4, Out: 3}),
		}},
	}
}

type namedLayers struct {
	name   string
	layers []Layer
}

// netProblem is a random batch and parameters for the network of layers.
func netProblem(t *testing.T, layers []Layer, loss Loss, n int, seed uint64) problem {
	t.Helper()
	net, err := New(layers...)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, 7))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	for i := range theta {
		theta[i] += 0.3 * rng.NormFloat64() // γ ≠ 1, β ≠ 0, non-zero biases
	}
	x := randomDense(n, net.InSize(), rng)
	y := randomTargets(loss, n, net.OutSize(), rng)
	return problem{net, loss, theta, x, y, nil}
}

// New flattens residual blocks into their bodies' layers, in order, with a
// skip edge per block, inner blocks first; the parameters are the layers'
// in order.
func TestResidualFlatten(t *testing.T) {
	d := func(n int) Layer { return Dense{In: n, Out: n} }
	for _, c := range []struct {
		name   string
		layers []Layer
		want   []Layer
		skips  []Skip
	}{
		{"one block", []Layer{Dense{In: 2, Out: 3}, Residual(d(3), LayerNorm{Size: 3}), d(3)},
			[]Layer{Dense{In: 2, Out: 3}, d(3), LayerNorm{Size: 3}, d(3)}, []Skip{{1, 2}}},
		{"nested", []Layer{Residual(d(3), Residual(d(3), d(3)), d(3))},
			[]Layer{d(3), d(3), d(3), d(3)}, []Skip{{1, 2}, {0, 3}}},
		{"same span", []Layer{d(3), Residual(Residual(d(3)))},
			[]Layer{d(3), d(3)}, []Skip{{1, 1}, {1, 1}}},
		{"two in a row", []Layer{Residual(d(3)), Residual(d(3), d(3))},
			[]Layer{d(3), d(3), d(3)}, []Skip{{0, 0}, {1, 2}}},
		{"none", []Layer{d(3), d(3)}, []Layer{d(3), d(3)}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			net, err := New(c.layers...)
			require.NoError(t, err)
			assert.Equal(t, c.want, net.Layers)
			assert.Equal(t, c.skips, net.Skips())
			assert.Equal(t, len(c.skips) > 0, net.HasSkips())
			P := 0
			for _, l := range c.want {
				P += l.NumParams()
			}
			assert.Equal(t, P, net.NumParams())
		})
	}
}

// A residual body that is empty, does not chain, or changes the size is
// refused when the network is built, naming the layers and the sizes.
func TestResidualErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		layers []Layer
		msg    string
	}{
		{"empty body", []Layer{Dense{In: 2, Out: 3}, Residual()}, "residual block at layer 1 has an empty body"},
		{"empty nested body", []Layer{Residual(Dense{In: 3, Out: 3}, Residual())}, "residual block at layer 1 has an empty body"},
		{"body changes the size", []Layer{Dense{In: 2, Out: 3}, Residual(Dense{In: 3, Out: 4}, Dense{In: 4, Out: 5})},
			"residual block of layers 1–2 maps 3 inputs to 5 outputs"},
		{"nested body changes the size", []Layer{Residual(Dense{In: 3, Out: 3}, Residual(Dense{In: 3, Out: 2}), Dense{In: 2, Out: 3})},
			"residual block of layer 1 maps 3 inputs to 2 outputs"},
		{"body does not chain", []Layer{Residual(Dense{In: 3, Out: 4}, Dense{In: 5, Out: 3})}, "layer 1 takes 5 inputs but layer 0 gives 4"},
		{"block does not fit", []Layer{Dense{In: 2, Out: 4}, Residual(Dense{In: 3, Out: 3})}, "layer 1 takes 3 inputs but layer 0 gives 4"},
		{"bad layer norm in a body", []Layer{Residual(Dense{In: 4, Out: 4}, LayerNorm{Size: 4, Normalized: 3})}, "nn: layer 1: layer norm over groups of 3 does not divide 4 features"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.layers...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
	// The composite refuses the same bodies when it is used on its own.
	assert.Error(t, Residual(Dense{In: 3, Out: 4}).(Validator).Validate())
	assert.Panics(t, func() { Residual().Forward(mat.NewDense(1, 1, nil), mat.NewDense(1, 1, nil), nil) })
}

// The tape's products on networks with skip edges, against finite
// differences and the adjoint identity, for every loss.
func TestResidualTapeDerivatives(t *testing.T) {
	for _, c := range residualNets() {
		for _, loss := range losses {
			t.Run(c.name+"/"+loss.Name(), func(t *testing.T) {
				checkTape(t, netProblem(t, c.layers, loss, 5, 11))
			})
		}
	}
}

// opaque hides a residual block from New, which then keeps it as one
// composite layer: the network written without skip edges.
type opaque struct{ Layer }

// The same network with its skip edges in the tape and with each residual
// block as one composite layer gives the same initial parameters, loss,
// gradient, per-sample gradients and products.
func TestResidualMatchesComposite(t *testing.T) {
	for _, c := range residualNets() {
		t.Run(c.name, func(t *testing.T) {
			hidden := make([]Layer, len(c.layers))
			for i, l := range c.layers {
				hidden[i] = l
				if _, ok := l.(residual); ok {
					hidden[i] = opaque{l}
				}
			}
			p := netProblem(t, c.layers, SoftmaxCrossEntropy{}, 4, 5)
			comp, err := New(hidden...)
			require.NoError(t, err)
			require.False(t, comp.HasSkips())
			require.Equal(t, p.net.NumParams(), comp.NumParams())
			P := p.net.NumParams()
			a, b := make([]float64, P), make([]float64, P)
			p.net.Init(a, rand.New(rand.NewPCG(9, 9)))
			comp.Init(b, rand.New(rand.NewPCG(9, 9)))
			assert.Equal(t, a, b, "Init")

			tf, tc := NewTape(p.net, p.loss), NewTape(comp, p.loss)
			const tol = 1e-12
			relClose(t, tc.Forward(p.theta, p.x).RawMatrix().Data, tf.Forward(p.theta, p.x).RawMatrix().Data, tol, "output")
			gf, gc := make([]float64, P), make([]float64, P)
			n, _ := p.x.Dims()
			pf, pc := mat.NewDense(n, P, nil), mat.NewDense(n, P, nil)
			tf.Backward(gf, pf, p.y)
			tc.Backward(gc, pc, p.y)
			relClose(t, gc, gf, tol, "gradient")
			relClose(t, pc.RawMatrix().Data, pf.RawMatrix().Data, tol, "per-sample gradients")

			rng := rand.New(rand.NewPCG(6, 6))
			v := make([]float64, P)
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			C := p.net.OutSize()
			jf, jc := mat.NewDense(n, C, nil), mat.NewDense(n, C, nil)
			tf.JVP(jf, v)
			tc.JVP(jc, v)
			relClose(t, jc.RawMatrix().Data, jf.RawMatrix().Data, tol, "JVP")
			u := randomDense(n, C, rng)
			tf.VJP(gf, u)
			tc.VJP(gc, u)
			relClose(t, gc, gf, tol, "VJP")
			tf.GGNVec(gf, v)
			tc.GGNVec(gc, v)
			relClose(t, gc, gf, tol, "GGN-vector product")
			tf.HessVec(gf, v)
			tc.HessVec(gc, v)
			relClose(t, gc, gf, tol, "Hessian-vector product")
		})
	}
}

// With skip edges, BackpropOutput hands each layer the output gradient
// Backward stores, and a prefix of a tape gives the products of a tape run
// on the first rows alone.
func TestResidualBackpropOutputAndPrefix(t *testing.T) {
	for _, c := range residualNets() {
		t.Run(c.name, func(t *testing.T) {
			p := netProblem(t, c.layers, MSE{}, 6, 13)
			checkBackpropOutput(t, p)
			checkPrefix(t, p)
		})
	}
}
