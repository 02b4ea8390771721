package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// ModelNearestKronecker returns, for each Kronecker layer, the G⊗A nearest in
// Frobenius norm to the exact layer block of the curvature matrix kind of m at
// θ on the batch (NearestKroneckerOf), and every other layer's exact block, one
// layer at a time (never P×P). No block diagonal of Kronecker products is
// nearer to M, K-FAC's included: the gap to K-FAC is what its factor estimates
// lose beyond the structure. Labels and opt.Budget are as in
// ModelBlockDiagonal; s.Kron.Budget bounds the factors.
func ModelNearestKronecker(m *curvature.Model, kind curvature.Kind, theta []float64, b curvature.Batch, opt *curvature.Options, s *NearestKronSettings) (*BlockDiagonal, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	var set NearestKronSettings
	if s != nil {
		set = *s
	}
	if err := set.check(); err != nil {
		return nil, err
	}
	nb, err := networkBlocks(m.Net)
	if err != nil {
		return nil, err
	}
	floats := 0
	for _, blk := range nb {
		if blk.structure == nn.KroneckerBlock {
			floats += blk.floats()
		}
	}
	if err := curvature.CheckFloats("Kronecker factors", floats, set.Kron.Budget); err != nil {
		return nil, err
	}
	o := sameLabels(kind, opt)
	blocks := make([]Approximation, len(nb))
	sizes := make([]int, len(nb))
	for i, blk := range nb {
		B, err := m.Block(kind, i, theta, b, o)
		if err != nil {
			return nil, err
		}
		sizes[i] = blk.size()
		switch blk.structure {
		case nn.KroneckerBlock:
			blocks[i], err = nearestKron(B, 0, KronShape{G: blk.p, A: blk.q}, &set)
		case nn.DiagonalBlock:
			blocks[i], err = DiagonalOf(B, curvature.Unlimited)
		default:
			blocks[i], err = NewSymMatrix(B, curvature.Unlimited)
		}
		if err != nil {
			return nil, fmt.Errorf("approx: layer %d: %w", blk.layer, err)
		}
	}
	return NewBlockDiagonal(blocks, Ranges(sizes...))
}
