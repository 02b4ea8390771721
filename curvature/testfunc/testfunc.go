package testfunc

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"
)

// ExtendedRosenbrock is gonum's ExtendedRosenbrock (Func, Grad, Minima)
// with its Hessian.
type ExtendedRosenbrock struct {
	functions.ExtendedRosenbrock
}

// Hess stores the Hessian of f at x in dst, whose dimension must be len(x).
func (ExtendedRosenbrock) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	if dst.SymmetricDim() != n {
		panic(fmt.Sprintf("testfunc: Hessian dimension %d, len(x) = %d", dst.SymmetricDim(), n))
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0)
		}
	}
	// The float64 conversions prevent fused multiply-adds, as in gonum's
	// Grad, so the values are the same on every architecture.
	for i := 0; i < n; i++ {
		d := 0.0
		if i < n-1 {
			d += float64(1200*float64(x[i]*x[i])) - float64(400*x[i+1]) + 2
			dst.SetSym(i, i+1, -400*x[i])
		}
		if i > 0 {
			d += 200
		}
		dst.SetSym(i, i, d)
	}
}

// Problem returns the optimize.Problem with Func, Grad and Hess.
func (f ExtendedRosenbrock) Problem() optimize.Problem {
	return optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}
}
