package firstorder

import (
	"fmt"
	"math"
)

var _ Optimizer = (*Rprop)(nil)

// RpropSettings configures Rprop. DefaultRpropSettings returns
// torch.optim.Rprop's defaults; the zero value differs from them in StepMin,
// which is 0 there.
type RpropSettings struct {
	// LR is the initial step size of every parameter. If LR is 0 it is
	// defaulted to 1e-2.
	LR float64

	// EtaMinus and EtaPlus, 0 < η⁻ < 1 < η⁺, shrink and grow a parameter's
	// step size when its gradient changes sign or keeps it. If 0 they are
	// defaulted to 0.5 and 1.2 (torch rejects 0, and no other value means
	// "none" here).
	EtaMinus, EtaPlus float64

	// StepMin ≥ 0 is the smallest step size. 0 means no lower bound but 0.
	StepMin float64

	// StepMax ≥ StepMin is the largest step size. If StepMax is 0 it is
	// defaulted to 50: a largest step of 0 would not move.
	StepMax float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultRpropSettings returns torch.optim.Rprop's defaults: LR 1e-2,
// EtaMinus 0.5, EtaPlus 1.2, StepMin 1e-6, StepMax 50.
func DefaultRpropSettings() RpropSettings {
	return RpropSettings{LR: 1e-2, EtaMinus: 0.5, EtaPlus: 1.2, StepMin: 1e-6, StepMax: 50}
}

// Rprop is resilient backpropagation (Riedmiller & Braun, 1993), as
// torch.optim.Rprop: each parameter moves by its own step size δ against the
// sign of its gradient, and δ adapts to whether the sign persists. With
// gradient g and the previous step's p (0 at the first step):
//
//	g·p > 0:  δ ← min(η⁺δ, δmax)
//	g·p < 0:  δ ← max(η⁻δ, δmin), and g ← 0: no move this step
//	g·p = 0:  δ unchanged (clamped to [δmin, δmax])
//	θ ← θ − sign(g)·δ;  p ← g
//
// This is Rprop without weight backtracking (Rprop⁻ in Igel & Hüsken's
// terms), as torch has it. δ starts at the learning rate, so a learning rate
// set after the first step has no effect, as in torch; a group's learning
// rate scale sets its initial δ. Rprop uses the sign of the gradient only,
// which suits full-batch gradients; it has no weight decay.
type Rprop struct {
	state
	s RpropSettings
}

// NewRprop returns Rprop for n parameters, or an error if a setting is
// invalid. Its buffers, in saved-state order, are p and δ.
func NewRprop(n int, s RpropSettings) (*Rprop, error) {
	const kind = "Rprop"
	s.LR = withDefault(s.LR, 1e-2)
	s.EtaMinus = withDefault(s.EtaMinus, 0.5)
	s.EtaPlus = withDefault(s.EtaPlus, 1.2)
	s.StepMax = withDefault(s.StepMax, 50)
	if !(0 < s.EtaMinus && s.EtaMinus < 1 && 1 < s.EtaPlus) || math.IsInf(s.EtaPlus, 1) {
		return nil, fmt.Errorf("firstorder: %s: EtaMinus = %v and EtaPlus = %v, want 0 < EtaMinus < 1 < EtaPlus < ∞", kind, s.EtaMinus, s.EtaPlus)
	}
	if err := checkNonNeg(kind, "StepMin", s.StepMin); err != nil {
		return nil, err
	}
	if !(s.StepMax >= s.StepMin) || math.IsInf(s.StepMax, 1) {
		return nil, fmt.Errorf("firstorder: %s: StepMax = %v, want a finite number ≥ StepMin = %v", kind, s.StepMax, s.StepMin)
	}
	st, err := newState(kind, n, s.LR, 0, signed, square)
	if err != nil {
		return nil, err
	}
	return &Rprop{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *Rprop) Step(x, grad []float64) error {
	if err := o.check(x, grad); err != nil {
		return err
	}
	etaMinus, etaPlus := o.s.EtaMinus, o.s.EtaPlus
	lo, hi, sg := o.s.StepMin, o.s.StepMax, sign(o.s.Maximize)
	for _, r := range o.runs {
		x, grad, prev, delta := r.of(x), r.of(grad), r.of(o.bufs[0]), r.of(o.bufs[1])
		if o.steps == 0 {
			lr := o.lr * r.lrScale
			for i := range delta {
				delta[i] = lr
			}
		}
		for i, g := range grad {
			g *= sg
			// The sign of the product, not of each factor, as torch: a
			// product that underflows to 0 leaves δ as it is.
			eta := 1.0
			switch p := g * prev[i]; {
			case p > 0:
				eta = etaPlus
			case p < 0:
				eta, g = etaMinus, 0
			}
			d := min(max(delta[i]*eta, lo), hi)
			delta[i] = d
			switch {
			case g > 0:
				x[i] -= d
			case g < 0:
				x[i] += d
			}
			prev[i] = g
		}
	}
	o.steps++
	return nil
}
