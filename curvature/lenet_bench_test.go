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

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/benchnet"
)

// The LeNet-style network of docs/benchmarks.md (internal/benchnet), the one
// docs/bench/torch_lenet.py times in PyTorch, with the softmax
// cross-entropy, float64, on the first 128 MNIST training images. It skips
// when MNIST is not in the module cache, with the error that says how to
// get it.
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
	x, y, err := benchnet.MNIST(n)
	if err != nil {
		t.Skip(err)
	}
	net, err := benchnet.LeNet()
	if err != nil {
		t.Fatal(err)
	}
	return net, Batch{X: x, Y: y}
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
