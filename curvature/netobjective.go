package curvature

import (
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// NetObjective is the mean loss of a model on a fixed batch as a function of
// θ (weighted by the batch's sample weights, if any): an Objective with the exact Hessian and exact Hessian-vector products,
// so every solver for plain functions runs on a network too. It is not safe
// for concurrent use.
type NetObjective struct {
	Model Model
	Batch Batch
	tape  *nn.Tape
}

var (
	_ Hessianer = (*NetObjective)(nil)
	_ HessVecer = (*NetObjective)(nil)
)

// Objective returns the mean loss of m on the batch as an Objective, after
// checking the batch.
func (m *Model) Objective(b Batch) (*NetObjective, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if err := m.Validate(make([]float64, m.Net.NumParams()), b); err != nil {
		return nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	t.SetWeights(b.W)
	return &NetObjective{Model: *m, Batch: b, tape: t}, nil
}

// Dim returns P.
func (o *NetObjective) Dim() int { return o.Model.Net.NumParams() }

// Func returns the mean loss at θ.
func (o *NetObjective) Func(theta []float64) float64 {
	o.tape.Forward(theta, o.Batch.X)
	return o.tape.LossValue(o.Batch.Y)
}

// Grad stores the gradient of the mean loss at θ in grad.
func (o *NetObjective) Grad(grad, theta []float64) {
	o.tape.Forward(theta, o.Batch.X)
	o.tape.Backward(grad, nil, o.Batch.Y)
}

// Hess stores the exact Hessian at θ in dst. It panics if θ holds NaN or
// Inf; use Model.Dense for an error instead.
func (o *NetObjective) Hess(dst *mat.SymDense, theta []float64) {
	if err := o.Model.DenseTo(dst, Hessian, theta, o.Batch, nil); err != nil {
		panic(err)
	}
}

// HessVec stores H(θ)·v in dst by the R-operator.
func (o *NetObjective) HessVec(dst, theta, v []float64) {
	o.tape.Forward(theta, o.Batch.X)
	o.tape.Backward(nil, nil, o.Batch.Y)
	o.tape.HessVec(dst, v)
}
