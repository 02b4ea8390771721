package firstorder

import (
	"fmt"
	"math"

	"github.com/curvkit/curvkit/internal/numerr"
)

var _ Optimizer = (*ASGD)(nil)

// ASGDSettings configures ASGD. DefaultASGDSettings returns
// torch.optim.ASGD's defaults; the zero value differs from them in Lambda,
// Alpha and T0, which are 0 there.
type ASGDSettings struct {
	// LR is the learning rate η₀. If LR is 0 it is defaulted to 1e-2.
	LR float64

	// Lambda is the decay term λ ≥ 0: it shrinks θ by 1 − λη_t each step
	// and slows the decay of η_t. 0 means none: η_t = η₀.
	Lambda float64

	// Alpha is the power α ≥ 0 of the learning-rate decay. 0 means a
	// constant η_t = η₀.
	Alpha float64

	// T0 ≥ 0 is the step t₀ after which the average starts. 0 means the
	// average of all iterates but the first.
	T0 float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultASGDSettings returns torch.optim.ASGD's defaults: LR 1e-2, Lambda
// 1e-4, Alpha 0.75, T0 1e6, no weight decay.
func DefaultASGDSettings() ASGDSettings {
	return ASGDSettings{LR: 1e-2, Lambda: 1e-4, Alpha: 0.75, T0: 1e6}
}

// ASGD is averaged stochastic gradient descent (Polyak & Juditsky, 1992), as
// torch.optim.ASGD: SGD with a decaying learning rate whose iterates are
// averaged, the average being the estimate to use. With gradient g (plus
// λ_wd·θ if WeightDecay is set) at step t = 1, 2, …:
//
//	η_t = η₀ / (1 + λη₀(t−1))^α
//	μ_t = 1 / max(1, t − 1 − t₀)
//	θ ← θ·(1 − λη_t) − η_t·g
//	θ̄ ← θ̄ + μ_t(θ − θ̄)
//
// so θ̄ = θ up to step t₀ + 2 and the running mean of the iterates after. Its
// buffer holds θ̄, which AverageTo copies out. torch computes η_t and μ_t at
// the end of step t−1 and stores them; here they are computed at step t from
// its learning rate, which is the same unless the learning rate changes, and
// then differs in the one step after the change.
type ASGD struct {
	state
	s ASGDSettings
}

// NewASGD returns ASGD for n parameters, or an error if a setting is
// invalid.
func NewASGD(n int, s ASGDSettings) (*ASGD, error) {
	const kind = "ASGD"
	s.LR = withDefault(s.LR, 1e-2)
	if err := numerr.First(
		checkNonNeg(kind, "Lambda", s.Lambda),
		checkNonNeg(kind, "Alpha", s.Alpha),
		checkNonNeg(kind, "T0", s.T0),
		checkNonNeg(kind, "WeightDecay", s.WeightDecay),
	); err != nil {
		return nil, err
	}
	st, err := newState(kind, n, s.LR, 0, signed)
	if err != nil {
		return nil, err
	}
	return &ASGD{state: st, s: s}, nil
}

// AverageTo copies the averaged parameters θ̄, torch's state["ax"], into
// dst, which must have length Len. The entries of parameters in no group (see
// SetGroups) are left as they are: start from a copy of θ to have their
// values there.
func (o *ASGD) AverageTo(dst []float64) {
	if len(dst) != o.n {
		panic(fmt.Sprintf("firstorder: ASGD: built for %d parameters, len(dst) = %d", o.n, len(dst)))
	}
	for _, r := range o.runs {
		copy(r.of(dst), r.of(o.bufs[0]))
	}
}

// Step takes one step; see Optimizer.
func (o *ASGD) Step(x, grad []float64) error {
	if err := o.check(x, grad); err != nil {
		return err
	}
	prev := float64(o.steps) // t − 1
	lambda, sg := o.s.Lambda, sign(o.s.Maximize)
	mu := 1 / max(1, prev-o.s.T0)
	for _, r := range o.runs {
		lr, wd := o.lr*r.lrScale, o.s.WeightDecay*r.wdScale
		eta := lr / math.Pow(1+float64(lambda*lr*prev), o.s.Alpha)
		decay, neta := 1-float64(lambda*eta), -eta
		x, grad, avg := r.of(x), r.of(grad), r.of(o.bufs[0])
		for i, g := range grad {
			g *= sg
			xi := x[i]
			if wd != 0 {
				g += float64(wd * xi)
			}
			xi = float64(xi*decay) + float64(neta*g)
			x[i] = xi
			if mu != 1 {
				avg[i] += float64((xi - avg[i]) * mu)
			} else {
				avg[i] = xi
			}
		}
	}
	o.steps++
	return nil
}
