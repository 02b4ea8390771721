package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
)

// Memory is what each matrix and approximation of a network's curvature
// holds, in float64 values, as each constructor checks it against its budget.
type Memory struct {
	Params       int // P
	Dense        int // P², curvature.Model.Dense
	Diagonal     int // P
	LayerBlocks  int // Σ P_l², ModelBlockDiagonal per layer
	NeuronBlocks int // the dense blocks per neuron
	// LargestLayer is max_l P_l², the layer block ModelBlockDiagonal per
	// neuron and ModelNearestKronecker form on the way (opt.Budget bounds it).
	LargestLayer int
	KFAC         int // factors of Kronecker layers, exact blocks of others
	EKFAC        int // KFAC plus a scale per Kronecker parameter
	TONGA        int // on ModelMemory's partition and settings
}

// ModelMemory returns the memory of every matrix and approximation of m's
// curvature from the network's shapes alone, TONGA's on partition p with
// settings s (nil means the defaults). It returns an error for a model
// without parameters, or a partition or settings the constructors reject.
func ModelMemory(m *curvature.Model, p Partition, s *TONGASettings) (Memory, error) {
	if m == nil || m.Net == nil {
		return Memory{}, fmt.Errorf("approx: model without a network")
	}
	layers, err := PerLayer.Index(m.Net)
	if err != nil {
		return Memory{}, err
	}
	neurons, err := PerNeuron.Index(m.Net)
	if err != nil {
		return Memory{}, err
	}
	tindex, err := p.Index(m.Net)
	if err != nil {
		return Memory{}, err
	}
	ts, err := tongaSettings(s)
	if err != nil {
		return Memory{}, err
	}
	blocks, err := networkBlocks(m.Net)
	if err != nil {
		return Memory{}, err
	}
	P := m.Net.NumParams()
	mem := Memory{
		Params:       P,
		Dense:        curvature.DenseFloats(P),
		Diagonal:     P,
		LayerBlocks:  blockFloats(layers),
		NeuronBlocks: blockFloats(neurons),
		TONGA:        ts.floats(tindex),
	}
	for _, b := range blocks {
		mem.LargestLayer = max(mem.LargestLayer, curvature.DenseFloats(b.size()))
		mem.KFAC += b.floats()
	}
	mem.EKFAC = mem.KFAC + ekfacFloats(blocks)
	return mem, nil
}

// blockFloats returns Σ|I_b|², the floats of the dense blocks of a block
// diagonal on the partition index.
func blockFloats(index [][]int) int {
	f := 0
	for _, idx := range index {
		f += len(idx) * len(idx)
	}
	return f
}
