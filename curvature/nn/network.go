package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Network is a feed-forward chain of layers, with the skip edges of its
// residual blocks. It holds only the structure: parameters live in a flat
// []float64 θ (layers' slices concatenated in order) that every method
// takes, so optimizers update θ in place and one network serves any number
// of parameter vectors.
type Network struct {
	// Layers are the network's layers in order, residual blocks flattened
	// into their bodies' layers. Layer k's input is layer k−1's output,
	// plus the inputs of the residual blocks whose bodies end at layer k−1
	// (see Skips).
	Layers  []Layer
	offsets []int // offsets[k] is layer k's first parameter; offsets[len] = P
	skips   []Skip
	into    [][]int // into[k]: the From of each skip edge with To = k (nil without skips)
	from    [][]int // from[k]: the To of each skip edge with From = k
}

// Skip is the skip edge of a residual block: the input of layer From is
// added to the output of layer To, From and To being the first and last
// layers of the block's body in Network.Layers.
type Skip struct{ From, To int }

// validate returns the error of a Validator layer without the package
// prefix, for a message that names the layer first.
func validate(l Layer) error {
	v, ok := l.(Validator)
	if !ok {
		return nil
	}
	if err := v.Validate(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "nn: "))
	}
	return nil
}

// New returns the network of the given layers, checking each layer that is
// a Validator and that each layer's input size is the previous layer's
// output size. A residual block (Residual) is flattened into its body's
// layers with a skip edge; its body must give as many outputs as it takes
// inputs.
func New(layers ...Layer) (*Network, error) {
	if len(layers) == 0 {
		return nil, errors.New("nn: network has no layers")
	}
	net := &Network{}
	if err := net.flatten(layers); err != nil {
		return nil, err
	}
	layers = net.Layers
	off := make([]int, len(layers)+1)
	for k, l := range layers {
		if err := validate(l); err != nil {
			return nil, fmt.Errorf("nn: layer %d: %s", k, err)
		}
		if l.InSize() <= 0 || l.OutSize() <= 0 {
			return nil, fmt.Errorf("nn: layer %d has sizes %d→%d; sizes must be positive", k, l.InSize(), l.OutSize())
		}
		if k > 0 && l.InSize() != layers[k-1].OutSize() {
			return nil, fmt.Errorf("nn: layer %d takes %d inputs but layer %d gives %d", k, l.InSize(), k-1, layers[k-1].OutSize())
		}
		off[k+1] = off[k] + l.NumParams()
	}
	for _, s := range net.skips {
		in, out := layers[s.From].InSize(), layers[s.To].OutSize()
		if in != out {
			span := fmt.Sprintf("layers %d–%d", s.From, s.To)
			if s.From == s.To {
				span = fmt.Sprintf("layer %d", s.From)
			}
			return nil, fmt.Errorf("nn: residual block of %s maps %d inputs to %d outputs; its body must keep the size", span, in, out)
		}
	}
	net.offsets = off
	if len(net.skips) > 0 {
		net.into = make([][]int, len(layers))
		net.from = make([][]int, len(layers))
		for _, s := range net.skips {
			net.into[s.To] = append(net.into[s.To], s.From)
			net.from[s.From] = append(net.from[s.From], s.To)
		}
	}
	return net, nil
}

// flatten appends layers to n.Layers, replacing each residual block by its
// body and recording its skip edge (inner blocks first).
func (n *Network) flatten(layers []Layer) error {
	for _, l := range layers {
		r, ok := l.(residual)
		if !ok {
			n.Layers = append(n.Layers, l)
			continue
		}
		from := len(n.Layers)
		if len(r.body) == 0 {
			return fmt.Errorf("nn: residual block at layer %d has an empty body", from)
		}
		if err := n.flatten(r.body); err != nil {
			return err
		}
		n.skips = append(n.skips, Skip{From: from, To: len(n.Layers) - 1})
	}
	return nil
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

// HasSkips reports whether the network has skip edges (residual blocks):
// when it has, a layer's input is not always the previous layer's output.
func (n *Network) HasSkips() bool { return len(n.skips) > 0 }

// Skips returns the skip edges of the network's residual blocks, in the
// order their blocks end (an inner block before the block around it).
func (n *Network) Skips() []Skip { return append([]Skip(nil), n.skips...) }

// skipsInto returns the layers whose inputs are added to layer k's output.
func (n *Network) skipsInto(k int) []int {
	if n.into == nil {
		return nil
	}
	return n.into[k]
}

// skipsFrom returns the layers to whose outputs layer k's input is added.
func (n *Network) skipsFrom(k int) []int {
	if n.from == nil {
		return nil
	}
	return n.from[k]
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
