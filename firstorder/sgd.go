package firstorder

import (
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/internal/numerr"
)

var _ Optimizer = (*SGD)(nil)

// SGDSettings configures SGD. The zero value is plain gradient descent with
// torch.optim.SGD's defaults.
type SGDSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-3, the
	// default of torch.optim.SGD since torch 2.0.
	LR float64

	// Momentum is μ in [0, 1). 0 means no momentum.
	Momentum float64

	// Dampening is d in [0, 1]: the momentum buffer adds (1−d)·g. 0 means
	// none. As in torch, it does not apply to the first step, which sets
	// the buffer to g.
	Dampening float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient, g + λθ.
	// 0 means none.
	WeightDecay float64

	// Nesterov selects torch's form of Nesterov momentum (see SGD). It
	// needs Momentum > 0 and Dampening = 0.
	Nesterov bool

	// Maximize ascends the objective instead of descending it: the
	// gradient is negated before anything else, as torch's maximize flag.
	Maximize bool
}

// SGD is stochastic gradient descent, with optional momentum, Nesterov
// momentum, dampening and L2 weight decay, as torch.optim.SGD. With gradient
// g (plus λθ if WeightDecay is set) at step t:
//
//	plain:     θ ← θ − lr·g
//	momentum:  b ← g at t = 1, else b ← μ·b + (1−d)·g;  θ ← θ − lr·b
//	Nesterov:  b as above;  θ ← θ − lr·(g + μ·b)
//
// Full-batch gradient descent, stochastic gradient descent (one sample per
// step) and mini-batch SGD are all this update: they differ only in the
// gradient the caller passes.
//
// The seed article writes momentum as v ← ρv + g, θ ← θ − lr·v from v = 0,
// which is this update with d = 0 (its first step also gives v = g). It
// writes Nesterov's accelerated gradient in Sutskever's form,
// v ← ρv − lr·∇L(θ + ρv), θ ← θ + v, with the gradient at the look-ahead
// point. Torch's form, used here, keeps the look-ahead point φ = θ + ρv as the
// parameters: substituting gives φ ← φ − lr·(g + ρb) with b = −v/lr and g the
// gradient at φ, so the two produce the same sequence of look-ahead points
// while this one needs only the gradient at the current parameters.
type SGD struct {
	state
	s SGDSettings
}

// NewSGD returns SGD for n parameters, or an error if a setting is invalid.
func NewSGD(n int, s SGDSettings) (*SGD, error) {
	const kind = "SGD"
	s.LR = withDefault(s.LR, 1e-3)
	if err := numerr.First(
		checkBeta(kind, "Momentum", s.Momentum),
		checkUnit(kind, "Dampening", s.Dampening),
		checkNonNeg(kind, "WeightDecay", s.WeightDecay),
	); err != nil {
		return nil, err
	}
	if s.Nesterov && (s.Momentum == 0 || s.Dampening != 0) {
		return nil, fmt.Errorf("firstorder: SGD: Nesterov needs Momentum > 0 and Dampening = 0, have %v and %v", s.Momentum, s.Dampening)
	}
	var bufs []bufKind
	if s.Momentum != 0 {
		bufs = []bufKind{signed}
	}
	st, err := newState(kind+variant(s.Momentum != 0, "-momentum"), n, s.LR, 0, bufs...)
	if err != nil {
		return nil, err
	}
	return &SGD{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *SGD) Step(x, grad []float64) error {
	if err := o.check(x, grad); err != nil {
		return err
	}
	sg := sign(o.s.Maximize)
	for _, r := range o.runs {
		var b []float64
		if o.s.Momentum != 0 {
			b = r.of(o.bufs[0])
		}
		o.update(r.of(x), r.of(grad), b, -(o.lr * r.lrScale), o.s.WeightDecay*r.wdScale, sg)
	}
	o.steps++
	return nil
}

// update is the step of one run: learning rate −nlr, weight decay wd,
// gradient sign sg, momentum buffer b (nil without momentum).
func (o *SGD) update(x, grad, b []float64, nlr, wd, sg float64) {
	mom := o.s.Momentum
	switch {
	case mom == 0 && wd == 0:
		floats.AddScaled(x, sg*nlr, grad) // x + nlr·(sg·g), unfused
	case mom == 0:
		// x + nlr·(sg·g + wd·x) = x + (sg·nlr)·(g + sg·wd·x), exactly: the
		// sign goes into the coefficients, not the loop.
		nlr, wd := sg*nlr, sg*wd
		grad = grad[:len(x)]
		for i, g := range grad {
			g += float64(wd * x[i])
			x[i] += float64(nlr * g)
		}
	case wd == 0 && !o.s.Nesterov:
		c := 1 - o.s.Dampening
		if o.steps == 0 {
			// The buffer starts at g: 0·0 + 1·g.
			mom, c = 0, 1
		}
		sgdMomentum(x, grad, b, mom, sg*c, nlr)
	default:
		grad, b := grad[:len(x)], b[:len(x)]
		c := 1 - o.s.Dampening
		first := o.steps == 0
		for i, g := range grad {
			g = penalized(g, sg, wd, x[i])
			bi := g
			if !first {
				bi = ema(b[i], mom, c, g)
			}
			b[i] = bi
			if o.s.Nesterov {
				bi = g + float64(mom*bi)
			}
			x[i] += float64(nlr * bi)
		}
	}
}

// variant returns suffix if on and "" otherwise; it names optimizer
// variants whose saved state has different buffers.
func variant(on bool, suffix string) string {
	if on {
		return suffix
	}
	return ""
}
