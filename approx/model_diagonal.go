package approx

import (
	"github.com/curvkit/curvkit/curvature"
)

// ModelDiagonal returns diag(M) of the curvature matrix kind of m at θ on the
// batch, for any kind, without forming M (curvature.Model.Diagonal, which
// says how each kind is computed; MCFisher draws the labels Model.Dense draws
// with the same options). opt.Budget bounds the P floats of the result.
func ModelDiagonal(m *curvature.Model, kind curvature.Kind, theta []float64, b curvature.Batch, opt *curvature.Options) (*Diagonal, error) {
	budget := 0
	if opt != nil {
		budget = opt.Budget
	}
	if m.Net != nil {
		if err := curvature.CheckFloats(kind.String()+" diagonal", m.Net.NumParams(), budget); err != nil {
			return nil, err
		}
	}
	d, err := m.Diagonal(kind, theta, b, opt)
	if err != nil {
		return nil, err
	}
	return NewDiagonal(d, budget)
}
