package curvature

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// The LeNet-style network of docs/benchmarks.md on 28×28 inputs, the one
// docs/bench/torch_lenet.py times in PyTorch: conv 5×5 ×6 → tanh → 2×2
// average pooling → conv 5×5 ×16 → tanh → pooling → 120 → 84 → 10, tanh
// between the dense layers, softmax cross-entropy, float64 (44,426
// parameters), on the first 128 MNIST training images. It skips when MNIST
// is not in the module cache, with the error that says how to get it.
func lenetFixture(b *testing.B) fixture {
	b.Helper()
	net, batch := lenet(b, 128)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	// The other 59,872 images (376 MB) are garbage: collect them now, not
	// while the benchmark runs.
	debug.FreeOSMemory()
	return fixture{Model{net, nn.SoftmaxCrossEntropy{}}, theta, batch}
}

// lenet returns the LeNet-style network and the first n MNIST training
// images with their labels, or skips.
func lenet(t testing.TB, n int) (*nn.Network, Batch) {
	t.Helper()
	train, _, err := data.MNIST("")
	if err != nil {
		t.Skip(err)
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
		t.Fatal(err)
	}
	return net, Batch{
		X: mat.DenseCopyOf(train.X.Slice(0, n, 0, 784)),
		Y: mat.DenseCopyOf(train.Y.Slice(0, n, 0, 1)),
	}
}

func BenchmarkLeNetGradient(b *testing.B)           { benchProduct(b, lenetFixture(b), gradient) }
func BenchmarkLeNetHessVec(b *testing.B)            { benchProduct(b, lenetFixture(b), hessVec) }
func BenchmarkLeNetGGNVec(b *testing.B)             { benchProduct(b, lenetFixture(b), ggnVec) }
func BenchmarkLeNetPerSampleGradients(b *testing.B) { benchProduct(b, lenetFixture(b), perSample) }

// BenchmarkLeNetRatios times the four products in turn and reports their
// ratios to the gradient.
func BenchmarkLeNetRatios(b *testing.B) { benchRatios(b, lenetFixture(b)) }

// TestLeNetAgainstTorch checks the LeNet-style network's mean loss and
// gradient against PyTorch's autograd on the same images and parameters,
// from the file `docs/bench/torch_lenet.py --export FILE` writes (named by
// $CURVKIT_TORCH_LENET; the test skips without it, PyTorch not being part
// of the tests): both sides sum the same terms in other orders, so they
// agree to rounding.
func TestLeNetAgainstTorch(t *testing.T) {
	path := os.Getenv("CURVKIT_TORCH_LENET")
	if path == "" {
		t.Skip("set CURVKIT_TORCH_LENET to the file docs/bench/torch_lenet.py --export writes")
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var ref struct {
		Inputs string
		Batch  int
		Theta  []float64
		Loss   float64
		Grad   []float64
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.True(t, strings.HasPrefix(ref.Inputs, "mnist"), "the reference was computed on %s, not MNIST", ref.Inputs)
	net, batch := lenet(t, ref.Batch)
	require.Len(t, ref.Theta, net.NumParams())
	tape := nn.NewTape(net, nn.SoftmaxCrossEntropy{})
	tape.Forward(ref.Theta, batch.X)
	loss := tape.LossValue(batch.Y)
	grad := make([]float64, net.NumParams())
	tape.Backward(grad, nil, batch.Y)

	scale := floats.Norm(ref.Grad, math.Inf(1))
	diff := make([]float64, len(grad))
	floats.SubTo(diff, grad, ref.Grad)
	worst := floats.Norm(diff, math.Inf(1))
	t.Logf("loss %.17g (PyTorch %.17g); gradient: largest entry %.3g, largest difference %.3g", loss, ref.Loss, scale, worst)
	assert.InDelta(t, ref.Loss, loss, 1e-13*math.Abs(ref.Loss))
	assert.LessOrEqual(t, worst, 1e-11*scale)
}
