package secondorder

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// mnistAE is Martens & Grosse's (2015) MNIST autoencoder,
// 784-1000-500-250-30-250-500-1000-784, logistic units but for the linear
// 30-unit code and the output logits, with the sigmoid cross-entropy.
var mnistAE = struct {
	sizes []int
	acts  []string
}{
	[]int{784, 1000, 500, 250, 30, 250, 500, 1000, 784},
	[]string{"sigmoid", "sigmoid", "sigmoid", "identity", "sigmoid", "sigmoid", "sigmoid", "identity"},
}

var mnistOnce = struct {
	sync.Once
	x   *mat.Dense
	err error
}{}

// mnistRows returns the first n training images of MNIST, read once, and
// skips the benchmark when MNIST is not in the module cache.
func mnistRows(b *testing.B, n int) *mat.Dense {
	mnistOnce.Do(func() {
		var train *data.Set
		if train, _, mnistOnce.err = data.MNIST(""); mnistOnce.err == nil {
			mnistOnce.x = mat.DenseCopyOf(train.X.Slice(0, 1000, 0, 784))
		}
	})
	if mnistOnce.err != nil {
		b.Skip(mnistOnce.err)
	}
	return mnistOnce.x.Slice(0, n, 0, 784).(*mat.Dense)
}

// mnistAESetup returns the autoencoder's model, parameters initialised
// with seed 1, and a batch of n MNIST images as inputs and targets.
func mnistAESetup(b *testing.B, n int) (*curvature.Model, []float64, curvature.Batch) {
	net, err := nn.NewMLP(mnistAE.sizes, mnistAE.acts)
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	x := mnistRows(b, n)
	return &curvature.Model{Net: net, Loss: nn.SigmoidBCE{}}, theta, curvature.Batch{X: x, Y: x}
}

// BenchmarkKFACOverAdamMNIST is BenchmarkKFACOverAdam on the MNIST
// autoencoder (2.8 million parameters) at batches of 256 and 1,000, with
// K-FAC's default settings.
func BenchmarkKFACOverAdamMNIST(b *testing.B) {
	for _, n := range []int{256, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			m, theta0, batch := mnistAESetup(b, n)
			benchOverAdam(b, m, theta0, batch, nil, true)
		})
	}
}
