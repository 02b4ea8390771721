package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
)

// ModelMemory tells, from a network's shapes alone, the float64 values
// each approximation will hold, so a caller can choose one, or set a
// budget, before anything is built. Each figure is the one the constructor
// checks against its budget (a *curvature.BudgetError names it), and,
// except for TONGA's work space, the Floats of the built approximation.
// Multiply by 8 for bytes.

// Memory is what each matrix and approximation of a network's curvature
// holds, in float64 values, known before any is built.
type Memory struct {
	Params int // P
	// Dense is P², one dense curvature matrix (curvature.Model.Dense).
	Dense int
	// Diagonal is P (ModelDiagonal, DiagonalOf).
	Diagonal int
	// LayerBlocks and NeuronBlocks are the dense blocks of the per-layer
	// and per-neuron block diagonals (ModelBlockDiagonal, BlockDiagonalOf).
	LayerBlocks, NeuronBlocks int
	// LargestLayer is max_l P_l², the exact layer block that
	// ModelBlockDiagonal per neuron and ModelNearestKronecker form, one
	// layer at a time, on the way to their results; opt.Budget bounds it
	// too.
	LargestLayer int
	// KFAC is what K-FAC holds: the factors of each Kronecker layer, the
	// exact block (dense or diagonal) of every other. EKFAC is KFAC plus
	// a scale per parameter of each Kronecker layer: the EKFAC's Floats
	// (eigenbases, scales, other blocks), and the budget ModelEKFAC
	// checks for it and the K-FAC it keeps.
	KFAC, EKFAC int
	// TONGA is the estimator on the partition and settings ModelMemory
	// was given (NewTONGAFeed, ModelTONGA).
	TONGA int
}

// ModelMemory returns the memory of every matrix and approximation of m's
// curvature from the network's shapes alone, TONGA's on partition p with
// settings s (nil means the defaults). It returns an error when m has no
// network or its network no parameters, or for a partition or TONGA
// settings the constructors reject.
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
