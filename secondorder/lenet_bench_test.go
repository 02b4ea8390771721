package secondorder

import (
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// lenetBenchSetup returns the LeNet-style network of docs/benchmarks.md
// (curvature's BenchmarkLeNet… time its products): conv 5×5 ×6 → tanh →
// 2×2 average pooling → conv 5×5 ×16 → tanh → pooling → 120 → 84 → 10 on
// the first 128 MNIST training images, softmax cross-entropy. It skips when
// MNIST is not in the module cache, with the error that says how to get it.
func lenetBenchSetup(b *testing.B) (*curvature.Model, []float64, curvature.Batch) {
	train, _, err := data.MNIST("")
	if err != nil {
		b.Skip(err)
	}
	tanh := func(n int) nn.Layer { return nn.Elementwise{Size: n, Act: nn.Tanh{}} }
	net, err := nn.New(
		nn.Conv2d{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}}, tanh(6*24*24),
		nn.AvgPool2d{C: 6, H: 24, W: 24, Kernel: [2]int{2, 2}},
		nn.Conv2d{In: 6, Out: 16, H: 12, W: 12, Kernel: [2]int{5, 5}}, tanh(16*8*8),
		nn.AvgPool2d{C: 16, H: 8, W: 8, Kernel: [2]int{2, 2}},
		nn.Flatten{C: 16, H: 4, W: 4},
		nn.Dense{In: 256, Out: 120}, tanh(120),
		nn.Dense{In: 120, Out: 84}, tanh(84),
		nn.Dense{In: 84, Out: 10},
	)
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	batch := curvature.Batch{X: mat.DenseCopyOf(train.X.Slice(0, 128, 0, 784)), Y: mat.DenseCopyOf(train.Y.Slice(0, 128, 0, 1))}
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
