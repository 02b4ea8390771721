package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature/nn"
)

// Partition selects how a network's parameters are split into the blocks
// of a block-diagonal approximation or of TONGA.
type Partition int

const (
	// PerLayer has one block per layer with parameters, the ranges of
	// curvature.Model.ParamBlocks.
	PerLayer Partition = iota
	// PerNeuron has one block per output neuron o of each Dense layer: its
	// in incoming weights and its bias, in+1 consecutive parameters of the
	// layer's row-major [W | b] (Le Roux et al.'s blocks for TONGA). A
	// layer with parameters that is not Dense is one block.
	PerNeuron
)

var partitionNames = [...]string{"layer", "neuron"}

// String returns "layer" or "neuron".
func (p Partition) String() string {
	if p < 0 || int(p) >= len(partitionNames) {
		return fmt.Sprintf("Partition(%d)", int(p))
	}
	return partitionNames[p]
}

// ParsePartition returns the Partition whose String is name.
func ParsePartition(name string) (Partition, error) {
	for p, s := range partitionNames {
		if s == name {
			return Partition(p), nil
		}
	}
	return 0, fmt.Errorf("approx: unknown partition %q (want layer or neuron)", name)
}

// Index returns the partition of net's parameters 0..P−1 as index sets in
// the project's layout (each a contiguous range, in order), ready for
// NewBlockDiagonal, BlockDiagonalOf and NewTONGA. It returns an error for
// an unknown partition or a network without parameters.
func (p Partition) Index(net *nn.Network) ([][]int, error) {
	if p != PerLayer && p != PerNeuron {
		return nil, fmt.Errorf("approx: unknown partition %d", int(p))
	}
	var sizes []int
	for k, l := range net.Layers {
		lo, hi := net.ParamRange(k)
		if hi == lo {
			continue
		}
		d, ok := l.(nn.Dense)
		if p == PerLayer || !ok {
			sizes = append(sizes, hi-lo)
			continue
		}
		for o := 0; o < d.Out; o++ {
			sizes = append(sizes, d.In+1)
		}
	}
	if len(sizes) == 0 {
		return nil, fmt.Errorf("approx: the network has no parameters")
	}
	return Ranges(sizes...), nil
}

// NetworkShapes returns the Kronecker shapes of net's Dense layers, in
// order: G = out, A = in+1. It returns an error if a layer with parameters
// is not Dense, since K-FAC factors only Dense layers.
func NetworkShapes(net *nn.Network) ([]KronShape, error) {
	idx, err := denseLayers(net)
	if err != nil {
		return nil, err
	}
	shapes := make([]KronShape, len(idx))
	for l, k := range idx {
		d := net.Layers[k].(nn.Dense)
		shapes[l] = KronShape{G: d.Out, A: d.In + 1}
	}
	return shapes, nil
}
