package secondorder

import (
	"errors"
	"math"
	"strings"
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

// Values the caller forgot to build — a nil method, objective or
// operator, a zero OperatorSolver — give an error or a secondorder: panic
// that says which, never a nil dereference.
func TestMissingArguments(t *testing.T) {
	obj, err := curvature.FromProblem(rosen.Problem(), 2)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := func(what string, err error, msg string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one containing %q", what, err, msg)
		}
	}
	noPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s panicked: %v", what, r)
			}
		}()
		f()
	}
	noPanic("Minimize", func() {
		_, err := Minimize([]float64{1, 1}, obj, nil, nil)
		wantErr("Minimize with a nil method", err, "secondorder: Minimize needs a method")
		_, err = Minimize([]float64{1, 1}, obj, (*DampedNewton)(nil), nil)
		wantErr("Minimize with a nil *DampedNewton", err, "secondorder: Minimize needs a method")
		_, err = Minimize([]float64{1, 1}, obj, (*TrustRegion)(nil), nil)
		wantErr("Minimize with a nil *TrustRegion", err, "secondorder: Minimize needs a method")
		_, err = Minimize([]float64{1, 1}, nil, &DampedNewton{}, nil)
		wantErr("Minimize with a nil objective", err, "secondorder: Minimize needs an objective")
		_, err = Minimize([]float64{1, 1}, (*curvature.Function)(nil), &DampedNewton{}, nil)
		wantErr("Minimize with a nil *Function", err, "secondorder: Minimize needs an objective")
	})
	noPanic("DampedNewtonStep", func() {
		_, err := DampedNewtonStep(make([]float64, 2), nil, []float64{1, 1}, 1)
		wantErr("DampedNewtonStep with a nil operator", err, "secondorder: nil curvature operator")
		var dn DampedNewton
		_, err = dn.Direction(make([]float64, 2), nil, []float64{1, 1})
		wantErr("Direction with a nil operator", err, "secondorder: nil curvature operator")
	})
	noPanic("OperatorSolver.SolveDampedTo", func() {
		var s OperatorSolver
		err := s.SolveDampedTo(make([]float64, 2), []float64{1, 1}, 1)
		wantErr("zero OperatorSolver", err, "secondorder: OperatorSolver has no operator")
	})
	func() {
		defer func() {
			r := recover()
			if msg, _ := r.(string); !strings.HasPrefix(msg, "secondorder: OperatorSolver has no operator") {
				t.Errorf("zero OperatorSolver's Dim: panic %v", r)
			}
		}()
		var s OperatorSolver
		s.Dim()
	}()
}
