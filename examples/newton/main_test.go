package main

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/functions"
)

func TestRosenHessMatchesDifferences(t *testing.T) {
	x := []float64{-1.2, 1, 0.3, 2, -0.5}
	got := mat.NewSymDense(5, nil)
	rosenHess(got, x)
	want := mat.NewDense(5, 5, nil)
	fd.Jacobian(want, functions.ExtendedRosenbrock{}.Grad, x, &fd.JacobianSettings{Formula: fd.Central})
	for i := 0; i < 5; i++ {
		for j := 0; j < 5; j++ {
			assert.InDelta(t, want.At(i, j), got.At(i, j), 1e-5*math.Max(1, math.Abs(want.At(i, j))))
		}
	}
}

// TestCompare runs the table on the 2-D start: every second-order method
// converges, and the exact trust region needs the 26 function evaluations
// SciPy 1.10.1's trust-exact needs from (−1.2, 1) to ‖∇f‖₂ < 1e-8.
func TestCompare(t *testing.T) {
	rows, err := compare([]float64{-1.2, 1}, 20000)
	require.NoError(t, err)
	for _, r := range rows {
		if strings.Contains(r.method, "gradient descent") || strings.Contains(r.method, "Cauchy") {
			continue
		}
		assert.True(t, r.converged, r.method)
		assert.Less(t, r.gradNorm, gradTol, r.method)
		if strings.Contains(r.method, "exact") {
			assert.Equal(t, 26, r.fun)
		}
	}
	var b strings.Builder
	printTable(&b, rows)
	assert.Contains(t, b.String(), "trust region, Steihaug–Toint CG")
}
