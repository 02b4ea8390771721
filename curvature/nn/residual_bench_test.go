package nn

import (
	"math/rand/v2"
	"testing"
)

// benchResidual times a gradient (hvp false) or a gradient and a
// Hessian-vector product on a batch of 128: Dense 64→64, tanh, two blocks
// of Dense 64→64, tanh, LayerNorm 64, Dense 64→64, then Dense 64→10 with
// softmax cross-entropy — with the blocks' skip edges, or the same layers
// as a plain chain, which isolates what the skip edges cost.
func benchResidual(b *testing.B, skips, hvp bool) {
	const w, n = 64, 128
	body := []Layer{Dense{In: w, Out: w}, Elementwise{Size: w, Act: Tanh{}}, LayerNorm{Size: w}, Dense{In: w, Out: w}}
	layers := []Layer{Dense{In: w, Out: w}, Elementwise{Size: w, Act: Tanh{}}}
	for range 2 {
		if skips {
			layers = append(layers, Residual(body...))
		} else {
			layers = append(layers, body...)
		}
	}
	layers = append(layers, Dense{In: w, Out: 10})
	net, err := New(layers...)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	x, y := randomDense(n, w, rng), randomTargets(SoftmaxCrossEntropy{}, n, 10, rng)
	v := make([]float64, len(theta))
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	t := NewTape(net, SoftmaxCrossEntropy{})
	g, hv := make([]float64, len(theta)), make([]float64, len(theta))
	for b.Loop() {
		t.Forward(theta, x)
		t.Backward(g, nil, y)
		if hvp {
			t.HessVec(hv, v)
		}
	}
}

func BenchmarkResidualGradient(b *testing.B) { benchResidual(b, true, false) }
func BenchmarkChainGradient(b *testing.B)    { benchResidual(b, false, false) }
func BenchmarkResidualHessVec(b *testing.B)  { benchResidual(b, true, true) }
func BenchmarkChainHessVec(b *testing.B)     { benchResidual(b, false, true) }
