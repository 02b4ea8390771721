package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// ModelNearestKronecker returns the Kronecker-optimal approximation of the
// curvature matrix kind of m at θ on the batch: for each Kronecker layer l
// the product G_l⊗A_l nearest in Frobenius norm to the exact layer block
// M_ll (NearestKroneckerOf), and for every other layer its exact block,
// dense or diagonal as the layer's structure says, each from
// curvature.Model.Block one layer at a time (never P×P). No block-diagonal
// of Kronecker products with these shapes is nearer to M in Frobenius norm,
// K-FAC's included; the gap between the two measures what K-FAC's factor
// estimates lose beyond the Kronecker structure itself.
//
// For MCFisher every layer uses the same sampled labels (see
// ModelBlockDiagonal). opt.Budget bounds each layer block, s.Kron.Budget
// the Kronecker factors.
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
