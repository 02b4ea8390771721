package secondorder

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
)

// Optimizer trains a network's parameters one batch at a time: KFAC,
// HessianFree, NaturalGradient or FirstOrder.
type Optimizer interface {
	// Step takes one step on the batch, updating θ in place, and reports
	// what it did. Bad data returns an error with θ unchanged.
	Step(theta []float64, b curvature.Batch) (Record, error)
}

var (
	_ Optimizer = (*KFAC)(nil)
	_ Optimizer = (*HessianFree)(nil)
	_ Optimizer = (*NaturalGradient)(nil)
	_ Optimizer = (*FirstOrder)(nil)
)

// optimizerSettings returns a copy of *s, or the zero settings if s is nil,
// with its defaults filled in, and checks that m has a network and a loss,
// which the optimizer named what needs.
func optimizerSettings[S any, P interface {
	*S
	defaults() error
}](what string, m *curvature.Model, s *S) (S, error) {
	var set S
	if s != nil {
		set = *s
	}
	if err := P(&set).defaults(); err != nil {
		return set, err
	}
	if m == nil || m.Net == nil || m.Loss == nil {
		return set, fmt.Errorf("secondorder: %s needs a model with a network and a loss", what)
	}
	return set, nil
}

// Record is what one optimizer step on a batch did. A value a method does
// not compute is NaN (zero for counts and flags); the fields after Spent
// belong to the methods named.
type Record struct {
	Step     int
	Accepted bool // θ moved; K-FAC undoes and Hessian-free refuses an uphill step

	Loss, NewLoss      float64 // the batch objective before and after the step (K-FAC's with η/2‖θ‖²)
	GradNorm, StepNorm float64 // ‖g‖₂ of the batch gradient, ‖Δθ‖₂ of the step taken or tried
	Lambda, NextLambda float64 // the damping of the step and after its update
	Predicted, Rho     float64 // the model's change of the loss (negative: a decrease); the loss's over it
	Updated            bool    // the curvature was recomputed (K-FAC's statistics, natural gradient's M̃)
	Refactored         bool    // K-FAC's damped factors were refactorised
	Spent              Counts  // Func losses, Grad gradients, Hess curvatures, Products, Factorizations

	// K-FAC: δ = αΔ + μδ_prev, Clipped by ModelTrust or NormConstraint; on
	// damping updates, the loss and the model's change on the model's rows.
	// Hessian-free: Alpha is the line search's step length.
	Alpha, Mu                 float64
	Clipped                   bool
	ModelLoss, ModelPredicted float64

	// Hessian-free: the loss at θ + p for the chosen CG iterate p, CG's
	// iterations, why it stopped and the iterate taken (0: the warm start).
	TrialLoss    float64
	CGIterations int
	Stop         HFStop
	Chosen       int

	Cosine float64 // natural gradient: cos∠(−g, Δθ)
}

// newRecord returns the record of step k with every value NaN.
func newRecord(k int) Record {
	nan := math.NaN()
	return Record{Step: k, Loss: nan, NewLoss: nan, GradNorm: nan, StepNorm: nan, Lambda: nan, NextLambda: nan,
		Predicted: nan, Rho: nan, Alpha: nan, Mu: nan, ModelLoss: nan, ModelPredicted: nan, TrialLoss: nan, Cosine: nan}
}

// FirstOrder trains a network with an optimizer of package firstorder,
// stepping with the batch's mean-loss gradient.
type FirstOrder struct {
	RecordLoss bool // evaluate the batch loss for Record.Loss (NaN otherwise)

	model *curvature.Model
	opt   firstorder.Optimizer
	tape  *nn.Tape
	grad  []float64
	old   []float64
	steps int
}

// NewFirstOrder returns the network optimizer that steps m's parameters
// with opt, which must have been built for m's number of parameters.
func NewFirstOrder(m *curvature.Model, opt firstorder.Optimizer) (*FirstOrder, error) {
	if m == nil || m.Net == nil || m.Loss == nil {
		return nil, errors.New("secondorder: first-order training needs a model with a network and a loss")
	}
	if opt == nil {
		return nil, errors.New("secondorder: first-order training needs an optimizer")
	}
	P := m.Net.NumParams()
	if opt.Len() != P {
		return nil, fmt.Errorf("secondorder: optimizer for %d parameters, the network has %d", opt.Len(), P)
	}
	return &FirstOrder{model: m, opt: opt, tape: nn.NewTape(m.Net, m.Loss), grad: make([]float64, P), old: make([]float64, P)}, nil
}

// Step takes one step of the optimizer with the gradient of the batch's
// mean loss at θ.
func (f *FirstOrder) Step(theta []float64, b curvature.Batch) (Record, error) {
	rec := newRecord(f.steps + 1)
	if err := f.model.Validate(theta, b); err != nil {
		return rec, err
	}
	t := f.tape
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	if f.RecordLoss {
		rec.Loss = t.LossValue(b.Y)
		rec.Spent.Func = 1
	}
	t.Backward(f.grad, nil, b.Y)
	rec.Spent.Grad = 1
	rec.GradNorm = floats.Norm(f.grad, 2)
	copy(f.old, theta)
	if err := f.opt.Step(theta, f.grad); err != nil {
		return rec, fmt.Errorf("secondorder: first-order step %d: %w", rec.Step, err)
	}
	f.steps++
	rec.Accepted = true
	rec.StepNorm = floats.Distance(theta, f.old, 2)
	return rec, nil
}
