package approx

import (
	"fmt"

	"github.com/curvkit/curvkit/curvature"
)

// ModelNearestKronecker returns the Kronecker-optimal approximation of the
// curvature matrix kind of m at θ on the batch: for each Dense layer l the
// product G_l⊗A_l nearest in Frobenius norm to the exact layer block M_ll,
// computed from curvature.Model.Block one layer at a time (never P×P) by
// NearestKronecker. No block-diagonal of Kronecker products with these
// shapes is nearer to M in Frobenius norm, K-FAC's included; the gap
// between the two measures what K-FAC's factor estimates lose beyond the
// Kronecker structure itself. With the matrix at hand,
// NearestKronecker(M, NetworkShapes(m.Net), s) gives the same.
//
// For MCFisher every layer uses the same sampled labels (see
// ModelBlockDiagonal). opt.Budget bounds each layer block, s.KFAC.Budget
// the factors. Every layer with parameters must be nn.Dense.
func ModelNearestKronecker(m *curvature.Model, kind curvature.Kind, theta []float64, b curvature.Batch, opt *curvature.Options, s *NearestKronSettings) (*KFAC, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	shapes, err := NetworkShapes(m.Net)
	if err != nil {
		return nil, err
	}
	var set NearestKronSettings
	if s != nil {
		set = *s
	}
	floats := 0
	for _, sh := range shapes {
		floats += sh.G*sh.G + sh.A*sh.A
	}
	if err := curvature.CheckFloats("K-FAC factors", floats, set.KFAC.Budget); err != nil {
		return nil, err
	}
	// Each layer alone, with settings that skip the eigendecompositions
	// NewKFAC below does once for the whole.
	layerSet := set
	layerSet.KFAC = KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver}
	o := sameLabels(kind, opt)
	factors := make([]KronFactors, len(shapes))
	for l, sh := range shapes {
		B, err := m.Block(kind, l, theta, b, o)
		if err != nil {
			return nil, err
		}
		k, err := NearestKronecker(B, []KronShape{sh}, &layerSet)
		if err != nil {
			return nil, fmt.Errorf("approx: layer %d: %w", l, err)
		}
		g, a := k.Layer(0).Factors()
		factors[l] = KronFactors{G: g, A: a}
	}
	return NewKFAC(factors, &set.KFAC)
}
