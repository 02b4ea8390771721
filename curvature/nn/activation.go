package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/curvkit/curvkit/internal/vmath"
)

// Activation is an element-wise function φ with its first two derivatives,
// applied to slices so a batch costs one call. The second derivative is what
// the Hessian's residual term (beyond the Gauss-Newton part) needs.
type Activation interface {
	// Name returns the name NewMLP accepts for the activation.
	Name() string
	// Apply stores φ(s) in a.
	Apply(a, s []float64)
	// Deriv stores φ'(s) in dst; a holds φ(s), which some derivatives reuse.
	Deriv(dst, s, a []float64)
	// Deriv2 stores φ″(s) in dst; a holds φ(s).
	Deriv2(dst, s, a []float64)
}

// ActivationByName returns the activation called name: identity, tanh,
// sigmoid, relu, softplus, elu or gelu (case-insensitive; "linear" is an
// alias of identity).
func ActivationByName(name string) (Activation, error) {
	switch strings.ToLower(name) {
	case "identity", "linear", "":
		return Identity{}, nil
	case "tanh":
		return Tanh{}, nil
	case "sigmoid", "logistic":
		return Sigmoid{}, nil
	case "relu":
		return ReLU{}, nil
	case "softplus":
		return Softplus{}, nil
	case "elu":
		return ELU{}, nil
	case "gelu":
		return GELU{}, nil
	}
	return nil, fmt.Errorf("nn: unknown activation %q (want one of %s)", name, strings.Join(activationList(), ", "))
}

// derivTimeser is an Activation that stores φ'(s) ⊙ v in dst in one pass
// (a holds φ(s)), with the same result as Deriv followed by the product.
type derivTimeser interface {
	derivTimes(dst, s, a, v []float64)
}

// Identity is φ(s) = s.
type Identity struct{}

func (Identity) Name() string               { return "identity" }
func (Identity) Apply(a, s []float64)       { copy(a, s) }
func (Identity) Deriv(dst, _, _ []float64)  { fill(dst, 1) }
func (Identity) Deriv2(dst, _, _ []float64) { clear(dst) }

// Tanh is φ(s) = tanh(s). Apply is vectorised, within 2 ulp of the
// correctly rounded value (see the package doc).
type Tanh struct{}

func (Tanh) Name() string         { return "tanh" }
func (Tanh) Apply(a, s []float64) { vmath.Tanh(a, s) }
func (Tanh) Deriv(dst, _, a []float64) {
	for i, t := range a {
		dst[i] = 1 - float64(t*t) // rounded as vmath.TanhBackward rounds it
	}
}
func (Tanh) derivTimes(dst, _, a, v []float64) { vmath.TanhBackward(dst, a, v) }
func (Tanh) Deriv2(dst, _, a []float64) {
	for i, t := range a {
		dst[i] = -2 * t * (1 - t*t)
	}
}

// Sigmoid is the logistic function φ(s) = 1/(1+e^{−s}), vectorised as Tanh.
type Sigmoid struct{}

func (Sigmoid) Name() string         { return "sigmoid" }
func (Sigmoid) Apply(a, s []float64) { vmath.Sigmoid(a, s) }
func (Sigmoid) Deriv(dst, _, a []float64) {
	for i, p := range a {
		dst[i] = p * (1 - p)
	}
}
func (Sigmoid) derivTimes(dst, _, a, v []float64) { vmath.SigmoidBackward(dst, a, v) }
func (Sigmoid) Deriv2(dst, _, a []float64) {
	for i, p := range a {
		dst[i] = p * (1 - p) * (1 - 2*p)
	}
}

// ReLU is φ(s) = max(s, 0), with φ'(0) = 0 as in PyTorch.
type ReLU struct{}

func (ReLU) Name() string { return "relu" }
func (ReLU) Apply(a, s []float64) {
	for i, v := range s {
		a[i] = max(v, 0)
	}
}
func (ReLU) Deriv(dst, s, _ []float64) {
	for i, v := range s {
		if v > 0 {
			dst[i] = 1
		} else {
			dst[i] = 0
		}
	}
}
func (ReLU) Deriv2(dst, _, _ []float64) { clear(dst) }

// Softplus is φ(s) = log(1 + e^s), computed without overflow and
// vectorised as Tanh; φ' is the sigmoid.
type Softplus struct{}

func (Softplus) Name() string              { return "softplus" }
func (Softplus) Apply(a, s []float64)      { vmath.Softplus(a, s) }
func (Softplus) Deriv(dst, s, _ []float64) { vmath.Sigmoid(dst, s) }
func (Softplus) Deriv2(dst, s, _ []float64) {
	vmath.Sigmoid(dst, s)
	for i, p := range dst {
		dst[i] = p * (1 - p)
	}
}

// ELU is φ(s) = s for s > 0 and e^s − 1 otherwise (α = 1).
type ELU struct{}

func (ELU) Name() string { return "elu" }
func (ELU) Apply(a, s []float64) {
	for i, v := range s {
		if v > 0 {
			a[i] = v
		} else {
			a[i] = math.Expm1(v)
		}
	}
}
func (ELU) Deriv(dst, s, a []float64) {
	for i, v := range s {
		if v > 0 {
			dst[i] = 1
		} else {
			dst[i] = a[i] + 1
		}
	}
}
func (ELU) Deriv2(dst, s, a []float64) {
	for i, v := range s {
		if v > 0 {
			dst[i] = 0
		} else {
			dst[i] = a[i] + 1
		}
	}
}

// GELU is the exact Gaussian error linear unit φ(s) = s·Φ(s), Φ the standard
// normal distribution function.
type GELU struct{}

func (GELU) Name() string { return "gelu" }
func (GELU) Apply(a, s []float64) {
	for i, v := range s {
		a[i] = v * normCDF(v)
	}
}
func (GELU) Deriv(dst, s, _ []float64) {
	for i, v := range s {
		dst[i] = normCDF(v) + v*normPDF(v)
	}
}
func (GELU) Deriv2(dst, s, _ []float64) {
	for i, v := range s {
		dst[i] = normPDF(v) * (2 - v*v)
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

func normPDF(x float64) float64 { return math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi) }

func fill(dst []float64, v float64) {
	for i := range dst {
		dst[i] = v
	}
}
