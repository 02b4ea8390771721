package secondorder

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/firstorder"
)

// TestErrorsShared checks that one errors.Is test finds a numerical failure
// whichever package reported it.
func TestErrorsShared(t *testing.T) {
	if firstorder.ErrNonFinite != curvature.ErrNonFinite {
		t.Error("firstorder.ErrNonFinite is not curvature.ErrNonFinite")
	}

	// A first-order step on a NaN gradient.
	sgd, err := firstorder.NewSGD(1, firstorder.SGDSettings{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	err = sgd.Step([]float64{1}, []float64{math.NaN()})
	if !errors.Is(err, curvature.ErrNonFinite) {
		t.Errorf("firstorder NaN gradient: %v does not wrap curvature.ErrNonFinite", err)
	}

	// An approximation's damped solve of an indefinite matrix.
	d, err := approx.NewDiagonal([]float64{1, -2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = d.SolveDampedTo(make([]float64, 2), []float64{1, 1}, 1)
	if !errors.Is(err, curvature.ErrNotPositiveDefinite) {
		t.Errorf("approx solve of diag(1, −2) + I: %v does not wrap curvature.ErrNotPositiveDefinite", err)
	}

	// A damped Newton step on the same matrix, dense, by Cholesky.
	m := curvature.NewDense(mat.NewSymDense(2, []float64{1, 0, 0, -2}))
	_, err = DampedNewtonStep(make([]float64, 2), m, []float64{1, 1}, 1)
	if !errors.Is(err, curvature.ErrNotPositiveDefinite) {
		t.Errorf("damped Newton step on diag(1, −2) + I: %v does not wrap curvature.ErrNotPositiveDefinite", err)
	}
}
