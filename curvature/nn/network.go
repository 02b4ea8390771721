package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Network is a feed-forward chain of layers. It holds only the structure:
// parameters live in a flat []float64 θ (layers' slices concatenated in
// order) that every method takes, so optimizers update θ in place and one
// network serves any number of parameter vectors.
type Network struct {
	Layers  []Layer
	offsets []int // offsets[k] is layer k's first parameter; offsets[len] = P
}

// New returns the network of the given layers, checking each layer that is
// a Validator and that each layer's input size is the previous layer's
// output size.
func New(layers ...Layer) (*Network, error) {
	if len(layers) == 0 {
		return nil, errors.New("nn: network has no layers")
	}
	off := make([]int, len(layers)+1)
	for k, l := range layers {
		if v, ok := l.(Validator); ok {
			if err := v.Validate(); err != nil {
				return nil, fmt.Errorf("nn: layer %d: %w", k, err)
			}
		}
		if l.InSize() <= 0 || l.OutSize() <= 0 {
			return nil, fmt.Errorf("nn: layer %d has sizes %d→%d; sizes must be positive", k, l.InSize(), l.OutSize())
		}
		if k > 0 && l.InSize() != layers[k-1].OutSize() {
			return nil, fmt.Errorf("nn: layer %d takes %d inputs but layer %d gives %d", k, l.InSize(), k-1, layers[k-1].OutSize())
		}
		off[k+1] = off[k] + l.NumParams()
	}
	return &Network{Layers: layers, offsets: off}, nil
}

// NewMLP returns the multi-layer perceptron with layer sizes sizes[0] (the
// input) … sizes[L] (the output) and activations[l] after affine layer l
// (len(activations) = len(sizes)−1; see ActivationByName). Identity
// activations add no layer, so the network alternates Dense and
// Elementwise layers.
func NewMLP(sizes []int, activations []string) (*Network, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("nn: an MLP needs at least 2 sizes, got %d", len(sizes))
	}
	if len(activations) != len(sizes)-1 {
		return nil, fmt.Errorf("nn: %d sizes need %d activations, got %d", len(sizes), len(sizes)-1, len(activations))
	}
	for i, s := range sizes {
		if s <= 0 {
			return nil, fmt.Errorf("nn: size %d is %d; sizes must be positive", i, s)
		}
	}
	var layers []Layer
	for l := 0; l+1 < len(sizes); l++ {
		act, err := ActivationByName(activations[l])
		if err != nil {
			return nil, fmt.Errorf("nn: layer %d: %w", l, err)
		}
		layers = append(layers, Dense{In: sizes[l], Out: sizes[l+1]})
		if _, ok := act.(Identity); !ok {
			layers = append(layers, Elementwise{Size: sizes[l+1], Act: act})
		}
	}
	return New(layers...)
}

// InSize returns the network's input size.
func (n *Network) InSize() int { return n.Layers[0].InSize() }

// OutSize returns the network's output size.
func (n *Network) OutSize() int { return n.Layers[len(n.Layers)-1].OutSize() }

// NumParams returns P, the length of θ.
func (n *Network) NumParams() int { return n.offsets[len(n.Layers)] }

// ParamRange returns the range [lo, hi) of layer k's parameters in θ.
func (n *Network) ParamRange(k int) (lo, hi int) { return n.offsets[k], n.offsets[k+1] }

// LayerParams returns layer k's slice of θ.
func (n *Network) LayerParams(theta []float64, k int) []float64 {
	return theta[n.offsets[k]:n.offsets[k+1]:n.offsets[k+1]]
}

// Init fills θ with a fresh initialisation drawn from rng, each layer
// initialising its own parameters (Layer.Init) with the activation of the
// Pointwise layer after it, if any. The same rng state gives the same θ.
func (n *Network) Init(theta []float64, rng *rand.Rand) {
	if len(theta) != n.NumParams() {
		panic(fmt.Sprintf("nn: θ has length %d, network has %d parameters", len(theta), n.NumParams()))
	}
	for k, l := range n.Layers {
		var next Activation = Identity{}
		if k+1 < len(n.Layers) {
			if p, ok := n.Layers[k+1].(Pointwise); ok {
				next = p.Activation()
			}
		}
		l.Init(n.LayerParams(theta, k), next, rng)
	}
}
