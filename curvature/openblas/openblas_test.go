package openblas_test

import (
	"testing"

	_ "github.com/curvkit/curvkit/curvature/openblas"
	"gonum.org/v1/gonum/mat"
)

// Whichever BLAS is in use, a product must be right: [1 2; 3 4]·[5; 6].
func TestProduct(t *testing.T) {
	var c mat.VecDense
	c.MulVec(mat.NewDense(2, 2, []float64{1, 2, 3, 4}), mat.NewVecDense(2, []float64{5, 6}))
	if c.AtVec(0) != 17 || c.AtVec(1) != 39 {
		t.Fatalf("got %v, want [17 39]", c.RawVector().Data)
	}
}
