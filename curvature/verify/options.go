package verify

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// Options tune the checks. The zero value, or nil, is valid.
type Options struct {
	// Step is the central-difference step. If Step is 0, it defaults to
	// 1e-5.
	Step float64
	// Tol is the relative tolerance of finite-difference checks. If Tol
	// is 0, it defaults to 1e-6; exact identities use 1e-10.
	Tol float64
	// Samples is the number of draws of statistical checks. If Samples is
	// 0, it defaults to 20000.
	Samples int
}

func (o *Options) step() float64 {
	if o == nil || o.Step == 0 {
		return 1e-5
	}
	return o.Step
}

func (o *Options) tol() float64 {
	if o == nil || o.Tol == 0 {
		return 1e-6
	}
	return o.Tol
}

func (o *Options) samples() int {
	if o == nil || o.Samples == 0 {
		return 20000
	}
	return o.Samples
}

// exactTol is the tolerance of identities that hold to rounding.
const exactTol = 1e-10

// relErr returns ‖got − want‖₂ / max(‖want‖₂, 1e-300).
func relErr(got, want []float64) float64 {
	d := make([]float64, len(want))
	floats.SubTo(d, got, want)
	return floats.Norm(d, 2) / math.Max(floats.Norm(want, 2), 1e-300)
}

// relScalar returns |a − b| / max(|a|, |b|, 1e-300).
func relScalar(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-300)
}
