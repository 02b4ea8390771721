package secondorder

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
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
	_, err = newtonStep(make([]float64, 2), m, []float64{1, 1}, 1)
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
	noPanic("Direction", func() {
		var dn DampedNewton
		_, err := dn.Direction(make([]float64, 2), nil, []float64{1, 1})
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

// infLoss is softmax cross-entropy whose value is +Inf, or whose first
// output gradient is −Inf.
type infLoss struct {
	nn.SoftmaxCrossEntropy
	grad bool
}

func (l infLoss) Value(dst []float64, z, y *mat.Dense) float64 {
	v := l.SoftmaxCrossEntropy.Value(dst, z, y)
	if !l.grad {
		return math.Inf(1)
	}
	return v
}

func (l infLoss) Grad(dst, z, y *mat.Dense) {
	l.SoftmaxCrossEntropy.Grad(dst, z, y)
	if l.grad {
		dst.Set(0, 0, math.Inf(-1))
	}
}

// A loss or gradient that is infinite at the start of a step is reported
// with its value, not as "NaN" or "not finite" alone, by every network
// optimizer.
func TestNonFiniteNamesValue(t *testing.T) {
	m, theta, set := digitsModel(t, 4, 9)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 8, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 8, 0, 1))}
	for _, grad := range []bool{false, true} {
		bad := &curvature.Model{Net: m.Net, Loss: infLoss{grad: grad}}
		want := "loss at the current point is +Inf"
		if grad {
			// The −Inf reaches some entries of the parameter gradient as
			// ±Inf and others as NaN (∞·0): the message names the first.
			g := make([]float64, len(theta))
			tape := nn.NewTape(m.Net, bad.Loss)
			tape.Forward(theta, b.X)
			tape.Backward(g, nil, b.Y)
			i := 0
			for !math.IsNaN(g[i]) && !math.IsInf(g[i], 0) {
				i++
			}
			want = fmt.Sprintf("gradient at the current point has %v at index %d", g[i], i)
		}
		kf, err := NewKFAC(bad, nil)
		if err != nil {
			t.Fatal(err)
		}
		hf, err := NewHessianFree(bad, nil)
		if err != nil {
			t.Fatal(err)
		}
		ng, err := NewNaturalGradient(bad, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, opt := range map[string]Optimizer{"K-FAC": kf, "Hessian-free": hf, "natural gradient": ng} {
			_, err := opt.Step(append([]float64(nil), theta...), b)
			if !errors.Is(err, curvature.ErrNonFinite) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s, infinite gradient %v: error %v, want one containing %q", name, grad, err, want)
			}
		}
	}
}
