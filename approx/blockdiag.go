package approx

import (
	"fmt"
	"slices"
	"sync"

	"github.com/james-bowman/sparse"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// BlockDiagonal keeps the couplings inside the blocks of a partition and
// drops those between: M̃[I_b, I_b] = B_b, each block an Approximation.
type BlockDiagonal struct {
	n          int
	blocks     []Approximation
	index      [][]int
	contiguous bool // index[b] is offset[b], offset[b]+1, … in order
	offset     []int

	mu        sync.Mutex // guards the gather buffers
	bin, bout []float64
}

var _ Approximation = (*BlockDiagonal)(nil)

// Ranges returns the partition of 0..Σsizes−1 into consecutive ranges of
// the given sizes: per-layer and per-neuron blocks are such ranges in the
// project's parameter layout. It panics if a size is negative.
func Ranges(sizes ...int) [][]int {
	idx := make([][]int, len(sizes))
	off := 0
	for b, s := range sizes {
		if s < 0 {
			panic(fmt.Sprintf("approx: negative range size %d", s))
		}
		idx[b] = make([]int, s)
		for i := range idx[b] {
			idx[b][i] = off + i
		}
		off += s
	}
	return idx
}

// checkPartition returns an error unless index partitions 0..n−1 into
// non-empty blocks, and reports whether every block is a consecutive
// range in increasing order.
func checkPartition(index [][]int, n int) (contiguous bool, err error) {
	if len(index) == 0 {
		return false, fmt.Errorf("approx: empty partition")
	}
	seen := make([]bool, n)
	contiguous = true
	next := 0
	for b, idx := range index {
		if len(idx) == 0 {
			return false, fmt.Errorf("approx: block %d of the partition is empty", b)
		}
		for k, i := range idx {
			if i < 0 || i >= n {
				return false, fmt.Errorf("approx: block %d holds index %d outside 0..%d", b, i, n-1)
			}
			if seen[i] {
				return false, fmt.Errorf("approx: index %d appears twice in the partition", i)
			}
			seen[i] = true
			if i != next+k {
				contiguous = false
			}
		}
		next += len(idx)
	}
	for i, s := range seen {
		if !s {
			return false, fmt.Errorf("approx: index %d is in no block of the partition", i)
		}
	}
	return contiguous, nil
}

// NewBlockDiagonal returns the block-diagonal approximation with block b
// acting on the parameters index[b]. index must partition 0..n−1 with
// len(index[b]) = blocks[b].Dim(); the blocks are used, not copied, and
// index is copied.
func NewBlockDiagonal(blocks []Approximation, index [][]int) (*BlockDiagonal, error) {
	if len(blocks) != len(index) {
		return nil, fmt.Errorf("approx: %d blocks for a partition of %d", len(blocks), len(index))
	}
	n := 0
	maxb := 0
	for b, blk := range blocks {
		if blk.Dim() != len(index[b]) {
			return nil, fmt.Errorf("approx: block %d has dimension %d for %d indices", b, blk.Dim(), len(index[b]))
		}
		n += blk.Dim()
		maxb = max(maxb, blk.Dim())
	}
	contiguous, err := checkPartition(index, n)
	if err != nil {
		return nil, err
	}
	bd := &BlockDiagonal{n: n, blocks: slices.Clone(blocks), contiguous: contiguous}
	bd.index = make([][]int, len(index))
	bd.offset = make([]int, len(index))
	off := 0
	for b, idx := range index {
		bd.index[b] = slices.Clone(idx)
		bd.offset[b] = off
		off += len(idx)
	}
	if !contiguous {
		bd.bin = make([]float64, maxb)
		bd.bout = make([]float64, maxb)
	}
	return bd, nil
}

// BlockDiagonalOf returns the blocks m[I_b, I_b] of m as dense blocks, the
// exact block-diagonal part of m. It returns an error when index is not a
// partition of 0..n−1 or a block is not finite, and a
// *curvature.BudgetError when Σ|I_b|² floats exceed budget (0: curvature.DefaultBudget; negative: no limit).
func BlockDiagonalOf(m mat.Symmetric, index [][]int, budget int) (*BlockDiagonal, error) {
	n := m.SymmetricDim()
	if _, err := checkPartition(index, n); err != nil {
		return nil, err
	}
	floats := blockFloats(index)
	if err := curvature.CheckFloats("block diagonal", floats, budget); err != nil {
		return nil, err
	}
	blocks := make([]Approximation, len(index))
	for b, idx := range index {
		s := mat.NewSymDense(len(idx), nil)
		for i, gi := range idx {
			for j := i; j < len(idx); j++ {
				s.SetSym(i, j, m.At(gi, idx[j]))
			}
		}
		if err := checkFiniteSym(fmt.Sprintf("block %d", b), s); err != nil {
			return nil, err
		}
		blocks[b] = &SymMatrix{m: s}
	}
	return NewBlockDiagonal(blocks, index)
}

// Dim returns n.
func (bd *BlockDiagonal) Dim() int { return bd.n }

// NumBlocks returns the number of blocks.
func (bd *BlockDiagonal) NumBlocks() int { return len(bd.blocks) }

// Block returns block b and the parameters it acts on. Neither may be
// modified.
func (bd *BlockDiagonal) Block(b int) (Approximation, []int) { return bd.blocks[b], bd.index[b] }

// apply runs f(block, in, out) on every block with in = v[I_b] and writes
// out back to dst[I_b]; f's error stops the loop.
func (bd *BlockDiagonal) apply(dst, v []float64, f func(blk Approximation, out, in []float64) error) error {
	checkVecs(dst, v, bd.n)
	if bd.contiguous {
		for b, blk := range bd.blocks {
			lo, hi := bd.offset[b], bd.offset[b]+blk.Dim()
			if err := f(blk, dst[lo:hi], v[lo:hi]); err != nil {
				return fmt.Errorf("block %d: %w", b, err)
			}
		}
		return nil
	}
	bd.mu.Lock()
	defer bd.mu.Unlock()
	for b, blk := range bd.blocks {
		idx := bd.index[b]
		in, out := bd.bin[:len(idx)], bd.bout[:len(idx)]
		for k, i := range idx {
			in[k] = v[i]
		}
		if err := f(blk, out, in); err != nil {
			return fmt.Errorf("block %d: %w", b, err)
		}
		for k, i := range idx {
			dst[i] = out[k]
		}
	}
	return nil
}

// MulVecTo stores M̃·v in dst, block by block.
func (bd *BlockDiagonal) MulVecTo(dst, v []float64) {
	_ = bd.apply(dst, v, func(blk Approximation, out, in []float64) error {
		blk.MulVecTo(out, in)
		return nil
	})
}

// SolveDampedTo stores (M̃ + λI)⁻¹·v in dst by solving each block.
func (bd *BlockDiagonal) SolveDampedTo(dst, v []float64, lambda float64) error {
	if err := checkLambda(lambda); err != nil {
		return err
	}
	return bd.apply(dst, v, func(blk Approximation, out, in []float64) error {
		return blk.SolveDampedTo(out, in, lambda)
	})
}

// Dense returns M̃ with zeros outside the blocks.
func (bd *BlockDiagonal) Dense() *mat.SymDense {
	m := mat.NewSymDense(bd.n, nil)
	for b, blk := range bd.blocks {
		d := Dense(blk)
		idx := bd.index[b]
		for i, gi := range idx {
			for j, gj := range idx {
				if gi <= gj {
					m.SetSym(gi, gj, d.At(i, j))
				}
			}
		}
	}
	return m
}

// Sparse returns M̃ as a compressed sparse row matrix holding exactly the
// entries of the blocks (Σ|I_b|² stored values), column indices increasing
// within each row.
func (bd *BlockDiagonal) Sparse() *sparse.CSR {
	nnz := 0
	for _, idx := range bd.index {
		nnz += len(idx) * len(idx)
	}
	type entry struct{ col, k int }
	rowBlock := make([]int, bd.n) // block of each row
	rowPos := make([]int, bd.n)   // position of each row inside its block
	sorted := make([][]entry, len(bd.index))
	dense := make([]*mat.SymDense, len(bd.blocks))
	for b, idx := range bd.index {
		for k, i := range idx {
			rowBlock[i], rowPos[i] = b, k
			sorted[b] = append(sorted[b], entry{col: i, k: k})
		}
		slices.SortFunc(sorted[b], func(x, y entry) int { return x.col - y.col })
		dense[b] = Dense(bd.blocks[b])
	}
	ia := make([]int, bd.n+1)
	ja := make([]int, 0, nnz)
	data := make([]float64, 0, nnz)
	for i := 0; i < bd.n; i++ {
		b, k := rowBlock[i], rowPos[i]
		for _, e := range sorted[b] {
			ja = append(ja, e.col)
			data = append(data, dense[b].At(k, e.k))
		}
		ia[i+1] = len(ja)
	}
	return sparse.NewCSR(bd.n, bd.n, ia, ja, data)
}

// Trace returns Σ tr B_b.
func (bd *BlockDiagonal) Trace() float64 {
	var t float64
	for _, blk := range bd.blocks {
		t += Trace(blk)
	}
	return t
}

// LogDet returns Σ log det of the damped blocks (LogDet of each).
func (bd *BlockDiagonal) LogDet(lambda float64) (float64, error) {
	var s float64
	for b, blk := range bd.blocks {
		ld, err := LogDet(blk, lambda)
		if err != nil {
			return ld, fmt.Errorf("block %d: %w", b, err)
		}
		s += ld
	}
	return s, nil
}

// Floats returns the sum of the blocks' floats, or −1 when a block does
// not say.
func (bd *BlockDiagonal) Floats() int {
	f := 0
	for _, blk := range bd.blocks {
		n := floatsOf(blk)
		if n < 0 {
			return -1
		}
		f += n
	}
	return f
}
