package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// ModelBlockDiagonal returns the exact block-diagonal part of the curvature
// matrix kind of m at θ on the batch for partition p, one layer block at a time
// from curvature.Model.Block (never P×P; per-neuron blocks are cut from their
// layer's). It equals BlockDiagonalOf(M, p.Index(m.Net), budget). For MCFisher
// every block uses the labels of one seed (opt.Seed, or one drawn from
// opt.Rand). opt.Budget bounds each layer block and the result.
func ModelBlockDiagonal(m *curvature.Model, kind curvature.Kind, p Partition, theta []float64, b curvature.Batch, opt *curvature.Options) (*BlockDiagonal, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	index, err := p.Index(m.Net)
	if err != nil {
		return nil, err
	}
	floats := blockFloats(index)
	budget := 0
	if opt != nil {
		budget = opt.Budget
	}
	if err := curvature.CheckFloats(fmt.Sprintf("%v %v blocks", kind, p), floats, budget); err != nil {
		return nil, err
	}
	nb, err := networkBlocks(m.Net)
	if err != nil {
		return nil, err
	}
	o := sameLabels(kind, opt)
	blocks := make([]Approximation, 0, len(index))
	for i, blk := range nb {
		B, err := m.Block(kind, i, theta, b, o)
		if err != nil {
			return nil, err
		}
		if p == PerLayer || blk.structure != nn.KroneckerBlock {
			s, err := NewSymMatrix(B, curvature.Unlimited)
			if err != nil {
				return nil, fmt.Errorf("approx: layer %d: %w", blk.layer, err)
			}
			blocks = append(blocks, s)
			continue
		}
		for n := 0; n < blk.p; n++ {
			s, err := NewSymMatrix(B.SliceSym(n*blk.q, (n+1)*blk.q), curvature.Unlimited)
			if err != nil {
				return nil, fmt.Errorf("approx: layer %d neuron %d: %w", blk.layer, n, err)
			}
			blocks = append(blocks, s)
		}
	}
	return NewBlockDiagonal(blocks, index)
}

// sameLabels returns options under which repeated calls of curvature's
// constructors draw the same Monte-Carlo labels: for MCFisher a caller's
// generator is replaced by a seed drawn from it once.
func sameLabels(kind curvature.Kind, opt *curvature.Options) *curvature.Options {
	if kind != curvature.MCFisher || opt == nil || opt.Rand == nil {
		return opt
	}
	o := *opt
	o.Rand = nil
	o.Seed = opt.Rand.Uint64()
	return &o
}
