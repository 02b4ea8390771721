package benchnet

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// DigitsMLP returns the perceptron of the given layer sizes and
// activations, its parameters drawn by Init from rand.NewPCG(1, 1), and
// the first n digits (n×64) with their labels (n×1).
func DigitsMLP(sizes []int, acts []string, n int) (net *nn.Network, theta []float64, x, y *mat.Dense, err error) {
	set, err := data.Digits()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	net, err = nn.NewMLP(sizes, acts)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	theta = make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	return net, theta, mat.DenseCopyOf(set.X.Slice(0, n, 0, 64)), mat.DenseCopyOf(set.Y.Slice(0, n, 0, 1)), nil
}

// LeNet returns the LeNet-style network on 28×28 inputs: conv 5×5 ×6 →
// tanh → 2×2 average pooling → conv 5×5 ×16 → tanh → pooling → 120 → 84 →
// 10, tanh between the dense layers (44,426 parameters).
func LeNet() (*nn.Network, error) {
	tanh := func(n int) nn.Layer { return nn.Elementwise{Size: n, Act: nn.Tanh{}} }
	return nn.New(
		nn.Conv2d{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}}, tanh(6*24*24),
		nn.AvgPool2d{C: 6, H: 24, W: 24, Kernel: [2]int{2, 2}},
		nn.Conv2d{In: 6, Out: 16, H: 12, W: 12, Kernel: [2]int{5, 5}}, tanh(16*8*8),
		nn.AvgPool2d{C: 16, H: 8, W: 8, Kernel: [2]int{2, 2}},
		nn.Flatten{C: 16, H: 4, W: 4},
		nn.Dense{In: 256, Out: 120}, tanh(120),
		nn.Dense{In: 120, Out: 84}, tanh(84),
		nn.Dense{In: 84, Out: 10},
	)
}

// MNIST returns the first n MNIST training images (n×784) and their labels
// (n×1), copied out of the whole set, or the error of data.MNIST, which
// says how to get MNIST where the module cache does not have it.
func MNIST(n int) (x, y *mat.Dense, err error) {
	train, _, err := data.MNIST("")
	if err != nil {
		return nil, nil, err
	}
	return mat.DenseCopyOf(train.X.Slice(0, n, 0, 784)), mat.DenseCopyOf(train.Y.Slice(0, n, 0, 1)), nil
}
