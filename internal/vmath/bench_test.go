package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The benchmarks apply each function to 4,096 entries drawn uniformly
// from a range typical of a network's pre-activations (ranges of the
// autoencoder's tanh layers and logits), against the math package's
// function on the same entries. Each reports ns per entry.

const benchLen = 4096

func benchInput(lo, hi float64) []float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, benchLen)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float64()
	}
	return x
}

// benchVec runs f under each implementation this CPU can run.
func benchVec(b *testing.B, f func(dst, x []float64), lo, hi float64) {
	benchEachKernel(b, func(b *testing.B) { benchLoop(b, f, lo, hi) })
}

func benchLoop(b *testing.B, f func(dst, x []float64), lo, hi float64) {
	x := benchInput(lo, hi)
	dst := make([]float64, len(x))
	for b.Loop() {
		f(dst, x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/entry")
}

func benchMath(b *testing.B, f func(float64) float64, lo, hi float64) {
	benchLoop(b, func(dst, x []float64) {
		for i, v := range x {
			dst[i] = f(v)
		}
	}, lo, hi)
}

func BenchmarkExp(b *testing.B)          { benchVec(b, Exp, -10, 10) }
func BenchmarkExpMath(b *testing.B)      { benchMath(b, math.Exp, -10, 10) }
func BenchmarkTanh(b *testing.B)         { benchVec(b, Tanh, -3, 3) }
func BenchmarkTanhMath(b *testing.B)     { benchMath(b, math.Tanh, -3, 3) }
func BenchmarkSigmoid(b *testing.B)      { benchVec(b, Sigmoid, -10, 10) }
func BenchmarkSigmoidMath(b *testing.B)  { benchMath(b, sigmoidGo, -10, 10) }
func BenchmarkSoftplus(b *testing.B)     { benchVec(b, Softplus, -10, 10) }
func BenchmarkSoftplusMath(b *testing.B) { benchMath(b, softplusGo, -10, 10) }

// benchEachKernel runs f under each implementation this CPU can run.
func benchEachKernel(b *testing.B, f func(b *testing.B)) {
	eachKernel(func(name string) { b.Run(name, f) })
}
