package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
)

// The functions of this file tell, from shapes alone, the float64 values
// an approximation will hold, so a caller can choose one, or set a budget,
// before anything is built. Each is the figure the constructor checks
// against its budget (a *curvature.BudgetError names it), and, except for
// TONGA's work space, the Floats of the built approximation. Multiply by 8
// for bytes.

// DiagonalFloats returns n, the floats of a Diagonal of order n
// (NewDiagonal, DiagonalOf, ModelDiagonal).
func DiagonalFloats(n int) int { return n }

// BlockDiagonalFloats returns Σ|I_b|², the floats of the dense blocks of
// BlockDiagonalOf and ModelBlockDiagonal on the partition index.
func BlockDiagonalFloats(index [][]int) int {
	f := 0
	for _, idx := range index {
		f += len(idx) * len(idx)
	}
	return f
}

// KFACFloats returns Σ G² + A², the floats of the factors of a K-FAC with
// these layer shapes (NewKFAC, KFACOf, and the Kronecker-optimal K-FAC of
// NearestKronecker and ModelNearestKronecker).
func KFACFloats(shapes []KronShape) int {
	f := 0
	for _, sh := range shapes {
		f += sh.G*sh.G + sh.A*sh.A
	}
	return f
}

// EKFACFloats returns Σ G² + A² + G·A, the floats of an EKFAC with these
// layer shapes: the eigenbases of the factors and one scale per parameter
// (NewEKFAC, EKFACFromGrads, EKFACFromMatrix, EKFACOf). EKFACOf also builds
// the K-FAC whose basis it keeps, KFACFloats(shapes) more.
func EKFACFloats(shapes []KronShape) int {
	f := 0
	for _, sh := range shapes {
		f += sh.G*sh.G + sh.A*sh.A + sh.G*sh.A
	}
	return f
}

// LowRankFloats returns n·k + n, the floats of a LowRank of order n and
// rank k (NewLowRank).
func LowRankFloats(n, k int) int { return n*k + n }

// TONGAFloats returns the floats NewTONGA allocates, and checks against
// s.Budget, for an estimator on the partition index with settings s (nil
// means the defaults): per block b an n_b×(k+b) column buffer and a
// (k+b)×(k+b) Gram matrix, and 4n for the mean, the exact diagonal, the
// new column and the residual,
//
//	Σ_b n_b(k+b) + (k+b)² + 4n,  n = Σ_b n_b.
//
// The estimate's Floats is smaller: Σ_b LowRankFloats(n_b, c) = n·c + n for
// the c ≤ k+b−1 columns in use, n·k + n after a compression. It returns an
// error for the settings NewTONGA rejects.
func TONGAFloats(index [][]int, s *TONGASettings) (int, error) {
	var set TONGASettings
	if s != nil {
		set = *s
	}
	if set.Rank < 0 || set.Refresh < 0 {
		return 0, fmt.Errorf("approx: TONGA rank %d and refresh %d must be ≥ 0", set.Rank, set.Refresh)
	}
	// The defaults of NewTONGA.
	if set.Rank == 0 {
		set.Rank = 5
	}
	if set.Refresh == 0 {
		set.Refresh = 5
	}
	n := 0
	for _, idx := range index {
		n += len(idx)
	}
	kb := set.Rank + set.Refresh
	return n*kb + len(index)*kb*kb + 4*n, nil
}

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
	// KFAC is the factors of K-FAC and of the Kronecker-optimal
	// approximation, EKFAC the eigenbases and scales of EKFAC (EKFACOf
	// also holds the K-FAC). Both are 0 when a layer with parameters is
	// not nn.Dense, as K-FAC then does not apply.
	KFAC, EKFAC int
	// TONGA is the estimator on the partition and settings ModelMemory
	// was given (NewTONGAFeed, TONGAOf).
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
	tonga, err := TONGAFloats(tindex, s)
	if err != nil {
		return Memory{}, err
	}
	P := m.Net.NumParams()
	largest := 0
	for _, idx := range layers {
		largest = max(largest, curvature.DenseFloats(len(idx)))
	}
	mem := Memory{
		Params:       P,
		Dense:        curvature.DenseFloats(P),
		Diagonal:     DiagonalFloats(P),
		LayerBlocks:  BlockDiagonalFloats(layers),
		NeuronBlocks: BlockDiagonalFloats(neurons),
		LargestLayer: largest,
		TONGA:        tonga,
	}
	if shapes, err := NetworkShapes(m.Net); err == nil {
		mem.KFAC, mem.EKFAC = KFACFloats(shapes), EKFACFloats(shapes)
	}
	return mem, nil
}
