package firstorder

import (
	"math"

	"github.com/curvkit/curvkit/internal/numerr"
)

var _ Optimizer = (*Adadelta)(nil)

// AdadeltaSettings configures Adadelta. DefaultAdadeltaSettings returns
// torch.optim.Adadelta's defaults; the zero value differs from them in Rho,
// which is 0 there.
type AdadeltaSettings struct {
	// LR scales the step. If LR is 0 it is defaulted to 1, torch's default
	// (Zeiler's algorithm has no learning rate, which is LR = 1).
	LR float64

	// Rho is the decay rate ρ in [0, 1] of both running averages. 0 means
	// no averaging: each holds its current square only.
	Rho float64

	// Eps is ε > 0, added inside both square roots. If Eps is 0 it is
	// defaulted to 1e-6.
	Eps float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultAdadeltaSettings returns torch.optim.Adadelta's defaults: LR 1, Rho
// 0.9, Eps 1e-6, no weight decay.
func DefaultAdadeltaSettings() AdadeltaSettings {
	return AdadeltaSettings{LR: 1, Rho: 0.9, Eps: 1e-6}
}

// Adadelta is Zeiler's (2012) adaptive learning rate method, as
// torch.optim.Adadelta. With gradient g (plus λθ if WeightDecay is set):
//
//	v ← ρv + (1−ρ)g²
//	Δ ← √(u + ε)/√(v + ε) · g
//	u ← ρu + (1−ρ)Δ²
//	θ ← θ − lr·Δ
//
// The step's units are those of θ: the running average u of past squared
// steps stands in for a learning rate, which is why lr defaults to 1.
type Adadelta struct {
	state
	s AdadeltaSettings
}

// NewAdadelta returns Adadelta for n parameters, or an error if a setting is
// invalid. Its buffers, in saved-state order, are v and u.
func NewAdadelta(n int, s AdadeltaSettings) (*Adadelta, error) {
	const kind = "Adadelta"
	s.LR = withDefault(s.LR, 1)
	s.Eps = withDefault(s.Eps, 1e-6)
	if err := numerr.First(
		checkUnit(kind, "Rho", s.Rho),
		checkEps(kind, s.Eps),
		checkNonNeg(kind, "WeightDecay", s.WeightDecay),
	); err != nil {
		return nil, err
	}
	st, err := newState(kind, n, s.LR, 0, square, square)
	if err != nil {
		return nil, err
	}
	return &Adadelta{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *Adadelta) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	rho, c, eps, sg := o.s.Rho, 1-o.s.Rho, o.s.Eps, sign(o.s.Maximize)
	for _, r := range o.runs {
		nlr, wd := -(o.lr * r.lrScale), o.s.WeightDecay*r.wdScale
		x, grad, v, u := r.of(x), r.of(grad), r.of(o.bufs[0]), r.of(o.bufs[1])
		for i, g := range grad {
			g = penalized(g, sg, wd, x[i])
			vi := emaSq(v[i], rho, c, g)
			v[i] = vi
			d := float64(math.Sqrt(u[i]+eps)/math.Sqrt(vi+eps)) * g
			u[i] = emaSq(u[i], rho, c, d)
			x[i] += float64(nlr * d)
		}
	}
	return nil
}
