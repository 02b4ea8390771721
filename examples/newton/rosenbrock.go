package main

import (
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"
)

// rosenHess stores the Hessian of gonum's ExtendedRosenbrock,
// f = Σ (1 − x_i)² + 100(x_{i+1} − x_i²)², which gonum does not provide:
//
//	H_ii    = [i < n−1](1200x_i² − 400x_{i+1} + 2) + [i > 0]·200
//	H_i,i+1 = −400 x_i.
func rosenHess(dst *mat.SymDense, x []float64) {
	n := len(x)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0)
		}
	}
	for i := 0; i < n; i++ {
		d := 0.0
		if i < n-1 {
			d += 1200*x[i]*x[i] - 400*x[i+1] + 2
			dst.SetSym(i, i+1, -400*x[i])
		}
		if i > 0 {
			d += 200
		}
		dst.SetSym(i, i, d)
	}
}

func rosenProblem() optimize.Problem {
	f := functions.ExtendedRosenbrock{}
	return optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: rosenHess}
}
