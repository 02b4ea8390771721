package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/benchnet"
)

// mlp returns the MLP of -sizes and -activations (or the task's default
// sizes) for inputs of size d: classes outputs when classifying, d when
// autoencoding.
func mlp(c *config, d, classes int, classify bool) (*nn.Network, string, error) {
	sizes, out := c.sizes, d
	if classify {
		out = classes
	}
	switch {
	case sizes == nil && classify:
		sizes = []int{d, 32, classes}
	case sizes == nil:
		sizes = []int{d, 48, 32, 16, 32, 48, d}
	case sizes[0] != d:
		return nil, "", fmt.Errorf("-sizes starts at %d inputs but the data has %d", sizes[0], d)
	case sizes[len(sizes)-1] != out && classify:
		return nil, "", fmt.Errorf("-sizes ends in %d outputs but the data has %d classes", sizes[len(sizes)-1], out)
	case sizes[len(sizes)-1] != out:
		return nil, "", fmt.Errorf("-sizes ends in %d outputs but an autoencoder of %d inputs needs %d", sizes[len(sizes)-1], d, d)
	}
	L := len(sizes) - 1
	var acts []string
	switch len(c.activations) {
	case 1:
		acts = make([]string, L)
		for l := range acts {
			acts[l] = c.activations[0]
		}
		acts[L-1] = "identity"
	case L:
		acts = c.activations
	default:
		return nil, "", fmt.Errorf("-activations: %d names for %d layers; give one, or one per layer", len(c.activations), L)
	}
	s := make([]string, len(sizes))
	for i, v := range sizes {
		s[i] = strconv.Itoa(v)
	}
	desc := strings.Join(s, "-") + " " + strings.Join(acts, ",")
	net, err := nn.NewMLP(sizes, acts)
	return net, desc, err
}

func tanh(n int) nn.Layer { return nn.Elementwise{Size: n, Act: nn.Tanh{}} }

// convNet returns the convolutional network of -task cnn for square
// one-channel images of d pixels: on the 8×8 digits, two 3×3 convolutions
// (8 and 16 channels, padding 1, so that the 8×8 and 4×4 maps keep their
// size), each followed by tanh and 2×2 average pooling, then a linear layer
// from the 16×2×2 features to the 10 classes; on MNIST's 28×28, the
// LeNet-style net of docs/benchmarks.md (benchnet.LeNet: conv 5×5 ×6 → tanh
// → pool → conv 5×5 ×16 → tanh → pool → 120 → 84 → 10, tanh between the
// dense layers).
// Tanh and average pooling keep every layer smooth, so the curvature the
// optimizers see is the loss's, not a kink's.
func convNet(d int) (*nn.Network, string, error) {
	switch d {
	case 64:
		layers, n := convStages(1, 8, 8, stage{8, 3, 1}, stage{16, 3, 1})
		net, err := nn.New(append(layers, nn.Dense{In: n, Out: 10})...)
		return net, "1×8×8 conv3×3×8-tanh-avgpool2 conv3×3×16-tanh-avgpool2 linear 64→10", err
	case 784:
		net, err := benchnet.LeNet()
		return net, "1×28×28 conv5×5×6-tanh-avgpool2 conv5×5×16-tanh-avgpool2 256-120-84-10 tanh (LeNet-style)", err
	}
	return nil, "", fmt.Errorf("-task cnn takes 8×8 or 28×28 images, not %d inputs", d)
}

// stage is a convolution with out channels and a square kernel and
// padding, followed by tanh and 2×2 average pooling.
type stage struct{ out, kernel, padding int }

// convStages returns the layers of the stages on a c×h×w input, then a
// flatten, and the size of its output.
func convStages(c, h, w int, stages ...stage) ([]nn.Layer, int) {
	var layers []nn.Layer
	for _, s := range stages {
		conv := nn.Conv2d{In: c, Out: s.out, H: h, W: w, Kernel: [2]int{s.kernel, s.kernel}, Padding: [2]int{s.padding, s.padding}}
		c, h, w = conv.OutShape()
		layers = append(layers, conv, tanh(c*h*w), nn.AvgPool2d{C: c, H: h, W: w, Kernel: [2]int{2, 2}})
		h, w = h/2, w/2
	}
	return append(layers, nn.Flatten{C: c, H: h, W: w}), c * h * w
}

// resWidth is the width of the residual MLP's stream.
const resWidth = 32

// residualMLP returns the residual MLP of -task resmlp: a linear layer from
// the d inputs to a stream of resWidth features, two pre-norm residual
// blocks x + W₂ tanh(W₁ LayerNorm(x)) (the form of a transformer's MLP
// block), and a linear layer to the classes.
func residualMLP(d, classes int) (*nn.Network, string, error) {
	block := func() nn.Layer {
		return nn.Residual(nn.LayerNorm{Size: resWidth}, nn.Dense{In: resWidth, Out: resWidth}, tanh(resWidth), nn.Dense{In: resWidth, Out: resWidth})
	}
	net, err := nn.New(nn.Dense{In: d, Out: resWidth}, block(), block(), nn.Dense{In: resWidth, Out: classes})
	desc := fmt.Sprintf("%d-%d residual[layernorm-linear-tanh-linear]×2 %d-%d", d, resWidth, resWidth, classes)
	return net, desc, err
}
