package nn

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Layer is one differentiable stage y = f(θ, x) of a feed-forward network,
// applied to a batch: x is N×InSize and y is N×OutSize, one sample a row.
// θ is the layer's own slice of the network's flat parameters (NumParams
// long). A layer knows only its own Jacobian products and its own
// second-order term; every curvature quantity of the network is built from
// them, so a new layer type is one type implementing Layer.
//
// A layer also says what structure its parameter block has, through the
// optional interfaces Kronecker (and Affine), Pointwise and Structurer, so
// that curvature assembly and the approximations of package approx work for
// any layer without naming its type. A layer whose settings can be
// inconsistent implements Validator, so that New refuses it.
//
// Jacobian products act sample by sample. The parameter products sum over the
// batch; the caller scales for a mean.
type Layer interface {
	InSize() int
	OutSize() int
	NumParams() int

	// Init fills θ (NumParams long) with a fresh initialisation drawn from
	// rng, for a layer whose output goes through the activation next
	// (Identity when the next layer is not Pointwise). A layer without
	// parameters does nothing.
	Init(theta []float64, next Activation, rng *rand.Rand)

	// Forward stores f(θ, x) in y.
	Forward(y, x *mat.Dense, theta []float64)

	// JVP stores the directional derivative dy = ∂f/∂x·dx + ∂f/∂θ·dθ in dy.
	// dx (N×InSize) or dθ may be nil, meaning zero. y holds f(θ, x).
	JVP(dy, x, y *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64)

	// VJP stores the transposed-Jacobian products of the output gradient g
	// (N×OutSize): dx_i = (∂f/∂x_i)ᵀ g_i in dx, and Σ_i (∂f/∂θ)ᵀ g_i in
	// dθ. Either destination may be nil to skip it.
	VJP(dx *mat.Dense, dtheta []float64, x, y *mat.Dense, theta []float64, g *mat.Dense)

	// PerSampleVJP stores (∂f(θ, x_i)/∂θ)ᵀ g_i in row i of dst (N×NumParams).
	PerSampleVJP(dst *mat.Dense, x, y *mat.Dense, theta []float64, g *mat.Dense)

	// SecondOrderVJP adds to rdx and rdθ the directional derivative, along
	// (dx, dθ), of the transposed-Jacobian products with g held fixed:
	//
	//	rdx += d/dε [(∂f/∂x)ᵀ g](θ+ε dθ, x+ε dx)
	//	rdθ += d/dε [Σ_i (∂f/∂θ)ᵀ g_i](θ+ε dθ, x+ε dx)
	//
	// This is the layer's residual term in the R-operator backward pass
	// (forward-over-reverse Hessian-vector products). rdx, rdθ, dx and dθ
	// may each be nil.
	SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, x, y *mat.Dense, theta []float64, g, dx *mat.Dense, dtheta []float64)
}
