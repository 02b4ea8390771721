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

// Optimizer trains a network's parameters one batch at a time: K-FAC,
// Hessian-free, natural gradient, and any first-order optimizer through
// FirstOrder, so a training loop switches method by changing the line that
// builds it.
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

// Record is what one optimizer step on a batch did. The first fields mean
// the same for every method; a value a method does not compute is NaN (or
// zero for counts and flags), and the fields after Spent belong to one
// method each.
type Record struct {
	Step int
	// Accepted is set when θ moved. K-FAC undoes a step that raised the
	// loss on a damping-update step; Hessian-free does not take a step
	// that does not lower the loss.
	Accepted bool
	// Loss is the batch objective before the step (K-FAC's includes its
	// weight decay η/2‖θ‖²) and NewLoss at the point the step ends, when
	// the method evaluated it.
	Loss, NewLoss float64
	// GradNorm is ‖g‖₂ of the batch gradient before the step and StepNorm
	// ‖Δθ‖₂ of the step taken (or tried, when not Accepted).
	GradNorm, StepNorm float64
	// Lambda is the damping the step used and NextLambda the damping after
	// its update.
	Lambda, NextLambda float64
	// Predicted is the quadratic model's change of the loss for the step,
	// negative for a decrease, and Rho the loss's change over it.
	Predicted, Rho float64
	// Updated is set when the step recomputed the curvature (K-FAC's
	// statistics, the natural gradient's M̃) and Refactored when it
	// refactorised it (K-FAC's damped factors).
	Updated, Refactored bool
	// Spent counts the work: Func loss evaluations and Grad gradient
	// passes on the batch, Hess curvatures formed, Products curvature or
	// Jacobian products, Factorizations factorisations.
	Spent Counts

	// K-FAC: the step is δ = αΔ + μδ_prev (Alpha, Mu), Clipped when the
	// model-trust cap or the norm constraint shortened it; on
	// damping-update steps, ModelLoss and ModelPredicted are the loss
	// before the step and the model's change on the rows of the quadratic
	// model, which Rho compares (NaN otherwise). Hessian-free: Alpha is the
	// line-search step length.
	Alpha, Mu                 float64
	Clipped                   bool
	ModelLoss, ModelPredicted float64

	// Hessian-free: TrialLoss is the loss at θ + p for the chosen CG
	// iterate p, CGIterations counts CG's iterations, Stop says why it
	// stopped and Chosen is the iteration of the iterate taken (0 for the
	// warm start, or when CG made no iteration).
	TrialLoss    float64
	CGIterations int
	Stop         HFStop
	Chosen       int

	// Natural gradient: Cosine is the cosine between −g and Δθ, positive
	// for a descent step.
	Cosine float64
}

// newRecord returns the record of step k with every value NaN.
func newRecord(k int) Record {
	nan := math.NaN()
	return Record{Step: k, Loss: nan, NewLoss: nan, GradNorm: nan, StepNorm: nan, Lambda: nan, NextLambda: nan,
		Predicted: nan, Rho: nan, Alpha: nan, Mu: nan, ModelLoss: nan, ModelPredicted: nan, TrialLoss: nan, Cosine: nan}
}

// FirstOrder trains a network with a first-order optimizer of package
// firstorder: each step forms the batch's mean-loss gradient and hands it
// to the optimizer's Step.
type FirstOrder struct {
	// RecordLoss makes each step evaluate the batch loss for its record.
	// The gradient does not need it, and for a loss such as the sigmoid
	// cross-entropy it is a noticeable part of a first-order step, so
	// without it Record.Loss is NaN.
	RecordLoss bool

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

// Optimizer returns the first-order optimizer, to change its learning rate
// or save its state.
func (f *FirstOrder) Optimizer() firstorder.Optimizer { return f.opt }

// Step takes one step of the optimizer with the gradient of the batch's
// mean loss at θ. The record has GradNorm, StepNorm, Spent (one gradient
// pass, and one loss evaluation with RecordLoss) and, with RecordLoss,
// Loss; Lambda, Predicted and Rho are NaN.
func (f *FirstOrder) Step(theta []float64, b curvature.Batch) (Record, error) {
	rec := newRecord(f.steps + 1)
	if err := f.model.Validate(theta, b); err != nil {
		return rec, err
	}
	t := f.tape
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
