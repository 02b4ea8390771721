package approx

import (
	"github.com/curvkit/curvkit/curvature"
)

// ModelDiagonal returns the exact diagonal approximation diag(M) of the
// curvature matrix kind of m at θ on the batch, for any kind, without
// forming M (curvature.Model.Diagonal):
//
//	Hessian, GGN, Fisher   from the per-sample second derivatives in each
//	                       layer's pre-activations (the GGN and Fisher by the
//	                       backpropagated columns of the output-Hessian factor);
//	                       exact, the Hessian included, for an MLP
//	MCFisher               the mean squared gradients at labels sampled with
//	                       opt's seed or generator (the labels Model.Dense draws
//	                       with the same options)
//	EmpiricalFisher        the mean squared per-sample gradients
//	GradientCovariance     the same, centred
//
// opt.Budget bounds the P floats of the result. Errors are those of
// Model.Diagonal and NewDiagonal.
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
