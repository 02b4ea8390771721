package data

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Batches iterates over a set in mini-batches, one epoch after another:
//
//	b, err := data.NewBatches(set, 32, rand.New(rand.NewPCG(1, 2)))
//	...
//	for epoch := 0; epoch < epochs; epoch++ {
//		for b.Next() {
//			x, y := b.X(), b.Y()
//			...
//		}
//	}
//
// Each epoch visits every sample once in a new random order drawn from the
// rng at the epoch's start, so the same seed gives the same batches. The
// last batch of an epoch holds the N mod size remaining samples unless
// DropLast is set.
//
// A batch is copied into buffers that the iterator reuses, so iterating
// does not allocate: the matrices from X and Y and the slice from Indices
// are valid only until the next call to Next, and they reflect the set's
// values at the time Next copied them.
type Batches struct {
	// DropLast, if set, skips the last batch of an epoch when it has fewer
	// than size samples.
	DropLast bool

	set   *Set
	size  int
	rng   *rand.Rand
	perm  []int
	pos   int  // position in perm of the next batch
	open  bool // inside an epoch
	epoch int

	xFull, yFull *mat.Dense // full-size batch buffers
	xPart, yPart *mat.Dense // views of the buffers for the short last batch
	x, y         *mat.Dense // the current batch
	idx          []int
}

// NewBatches returns an iterator over set in batches of size samples (all
// of them if size ≥ N), shuffled with rng, or in order if rng is nil. It
// returns an error if size ≤ 0 or set is not valid (see Validate), for
// example empty.
func NewBatches(set *Set, size int, rng *rand.Rand) (*Batches, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: batch size %d not positive", size)
	}
	if set == nil {
		return nil, errors.New("data: nil set")
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	n, d, t := set.Len(), set.InputDim(), set.TargetDim()
	bs := min(size, n)
	b := &Batches{set: set, size: size, rng: rng, perm: make([]int, n)}
	for i := range b.perm {
		b.perm[i] = i
	}
	b.xFull, b.yFull = mat.NewDense(bs, d, nil), mat.NewDense(bs, t, nil)
	b.xPart, b.yPart = b.xFull, b.yFull
	if r := n % bs; r != 0 {
		b.xPart = b.xFull.Slice(0, r, 0, d).(*mat.Dense)
		b.yPart = b.yFull.Slice(0, r, 0, t).(*mat.Dense)
	}
	return b, nil
}

// Next advances to the next batch of the current epoch, starting a new epoch
// (and drawing its order) if the previous one has ended. It returns false,
// once, at the end of each epoch.
func (b *Batches) Next() bool {
	n := len(b.perm)
	if !b.open {
		if b.rng != nil {
			b.rng.Shuffle(n, func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
		}
		b.pos, b.open = 0, true
	}
	rem := n - b.pos
	if rem == 0 || (b.DropLast && rem < b.size) {
		b.open, b.x, b.y, b.idx = false, nil, nil, nil
		b.epoch++
		return false
	}
	b.x, b.y = b.xFull, b.yFull
	if rem < b.size {
		b.x, b.y = b.xPart, b.yPart
	}
	k, _ := b.x.Dims()
	b.idx = b.perm[b.pos : b.pos+k]
	for r, i := range b.idx {
		copy(b.x.RawRowView(r), b.set.X.RawRowView(i))
		copy(b.y.RawRowView(r), b.set.Y.RawRowView(i))
	}
	b.pos += k
	return true
}

// X returns the inputs of the current batch, one row per sample, or nil
// outside a batch.
func (b *Batches) X() *mat.Dense { return b.x }

// Y returns the targets of the current batch, or nil outside a batch.
func (b *Batches) Y() *mat.Dense { return b.y }

// Indices returns the rows of the set that make up the current batch, in
// batch order. The caller must not modify it.
func (b *Batches) Indices() []int { return b.idx }

// Epoch returns the number of epochs completed, that is the number of times
// Next has returned false.
func (b *Batches) Epoch() int { return b.epoch }

// PerEpoch returns the number of batches in an epoch: ⌈N/size⌉, or
// ⌊N/size⌋ with DropLast.
func (b *Batches) PerEpoch() int {
	n := len(b.perm)
	if b.DropLast {
		return n / b.size
	}
	return (n + b.size - 1) / b.size
}
