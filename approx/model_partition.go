package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/enum"
)

// Partition selects how a network's parameters are split into the blocks
// of a block-diagonal approximation or of TONGA.
type Partition int

const (
	// PerLayer has one block per layer with parameters.
	PerLayer Partition = iota
	// PerNeuron has one block per output of each Kronecker layer (row o of its
	// p×q parameters: Le Roux et al.'s blocks for TONGA), and one per other layer.
	PerNeuron
)

var partitionNames = [...]string{"layer", "neuron"}

// String returns "layer" or "neuron".
func (p Partition) String() string { return enum.Name(p, partitionNames[:], "Partition") }

// ParsePartition returns the Partition whose String is name.
func ParsePartition(name string) (Partition, error) {
	if p, ok := enum.Parse(name, partitionNames[:], PerLayer); ok {
		return p, nil
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
	blocks, err := networkBlocks(net)
	if err != nil {
		return nil, err
	}
	var sizes []int
	for _, b := range blocks {
		if p == PerLayer || b.structure != nn.KroneckerBlock {
			sizes = append(sizes, b.size())
			continue
		}
		for range b.p {
			sizes = append(sizes, b.q)
		}
	}
	return Ranges(sizes...), nil
}

// NetworkShapes returns the Kronecker shapes of net's layers with
// parameters, in order. It returns an error if one of them is not an
// nn.Kronecker layer.
func NetworkShapes(net *nn.Network) ([]KronShape, error) {
	blocks, err := networkBlocks(net)
	if err != nil {
		return nil, err
	}
	shapes := make([]KronShape, len(blocks))
	for i, b := range blocks {
		if b.structure != nn.KroneckerBlock {
			return nil, fmt.Errorf("approx: layer %d (%T) has no Kronecker structure", b.layer, net.Layers[b.layer])
		}
		shapes[i] = KronShape{G: b.p, A: b.q}
	}
	return shapes, nil
}
