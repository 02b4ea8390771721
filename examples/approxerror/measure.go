package main

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
)

// sized is an approximation that says its size, as every one of package
// approx does.
type sized interface {
	approx.Approximation
	Floats() int
}

// measure returns the metrics of approx.Compare (without eigenvalues) of a
// against M by routes that suit a dense M of order about a thousand:
// the Frobenius error from approx.Dense(a), O(P²) once M̃ is formed, instead of
// P products with each operator (O(P³) for M); the spectral error by
// approx.RelSpectralError (with metricSettings); the
// damped solve by approx.SolveError with exact, whose Cholesky factor of
// M + λI is cached across approximations.
func measure(exact *approx.SymMatrix, a sized, g []float64, lambda float64) (*approx.Comparison, error) {
	c := &approx.Comparison{N: exact.Dim(), Lambda: lambda, Floats: a.Floats()}
	c.RelFrobenius = relFrobenius(exact.Matrix(), approx.Dense(a))
	var err error
	if c.RelSpectral, err = approx.RelSpectralError(exact, a, &metricSettings); err != nil {
		return nil, err
	}
	c.DenseSpectral = c.N <= metricSettings.DenseLimit
	c.SolveRelError, c.SolveCosine, c.SolveErr = approx.SolveError(exact, a, g, lambda)
	return c, nil
}

// relFrobenius returns ‖Ã − M‖_F / ‖M‖_F.
func relFrobenius(m, a *mat.SymDense) float64 {
	n := m.SymmetricDim()
	var num, den float64
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			w := 2.0 // each off-diagonal entry counts twice
			if i == j {
				w = 1
			}
			d := a.At(i, j) - m.At(i, j)
			num += w * d * d
			den += w * m.At(i, j) * m.At(i, j)
		}
	}
	return math.Sqrt(num / den)
}
