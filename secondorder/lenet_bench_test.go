package secondorder

import (
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/benchnet"
)

// lenetBenchSetup returns the LeNet-style network of docs/benchmarks.md
// (internal/benchnet; curvature's BenchmarkLeNet… time its products) on the
// first 128 MNIST training images, softmax cross-entropy. It skips when
// MNIST is not in the module cache, with the error that says how to get it.
func lenetBenchSetup(b *testing.B) (*curvature.Model, []float64, curvature.Batch) {
	x, y, err := benchnet.MNIST(128)
	if err != nil {
		b.Skip(err)
	}
	net, err := benchnet.LeNet()
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	batch := curvature.Batch{X: x, Y: y}
	debug.FreeOSMemory() // the other 59,872 images: collected and returned now, not while the benchmark runs
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, batch
}

// BenchmarkLeNetKFACOverAdam is BenchmarkKFACOverAdam on the LeNet-style
// network, K-FAC with its default settings: Monte-Carlo factors, the
// convolutions' factors expanded over their locations.
func BenchmarkLeNetKFACOverAdam(b *testing.B) {
	benchKFACOverAdam(b, lenetBenchSetup, nil, true)
}

// BenchmarkLeNetKFACOverAdamReduce is BenchmarkLeNetKFACOverAdam with the
// convolutions' factors reduced over their locations.
func BenchmarkLeNetKFACOverAdamReduce(b *testing.B) {
	benchKFACOverAdam(b, lenetBenchSetup, &KFACSettings{WeightSharing: approx.Reduce}, true)
}
