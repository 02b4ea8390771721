package firstorder

import (
	"math"

	"github.com/curvkit/curvkit/internal/numerr"
)

var _ Optimizer = (*NAdam)(nil)

// NAdamSettings configures NAdam. DefaultNAdamSettings returns
// torch.optim.NAdam's defaults; the zero value differs from them in Beta1,
// Beta2 and MomentumDecay, which are 0 there.
type NAdamSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 2e-3.
	LR float64

	// Beta1 and Beta2 are the decay rates in [0, 1) of the moment averages.
	// 0 means no averaging.
	Beta1, Beta2 float64

	// Eps is ε > 0, added to the denominator. If Eps is 0 it is defaulted to
	// 1e-8.
	Eps float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// MomentumDecay is ψ ≥ 0 of the momentum schedule. 0 means a constant
	// μ = β₁/2.
	MomentumDecay float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultNAdamSettings returns torch.optim.NAdam's defaults: LR 2e-3, Beta1
// 0.9, Beta2 0.999, Eps 1e-8, no weight decay, MomentumDecay 4e-3.
func DefaultNAdamSettings() NAdamSettings {
	return NAdamSettings{LR: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MomentumDecay: 4e-3}
}

// NAdam is Adam with Nesterov momentum (Dozat, 2016), as torch.optim.NAdam.
// With gradient g (plus λθ if WeightDecay is set) at step t = 1, 2, …, the
// momentum schedule μ_t = β₁(1 − ½·0.96^(tψ)) and Π_t = μ₁μ₂…μ_t:
//
//	m ← β₁m + (1−β₁)g
//	v ← β₂v + (1−β₂)g²
//	d ← √(v/(1−β₂ᵗ)) + ε
//	θ ← θ − lr(1−μ_t)/(1−Π_t) · g/d − lr·μ_{t+1}/(1−Π_t·μ_{t+1}) · m/d
//
// The second term uses the momentum of the next step, which is Nesterov's
// look-ahead without a second gradient. The seed article's formula for the
// corrected momentum is garbled; this is Dozat's algorithm with the schedule
// torch uses. Torch 1.13's single-tensor NAdam multiplied μ_t into Π twice in
// the second term; this follows the corrected form (torch ≥ 2.0 and 1.13's
// foreach implementation). Π is part of the saved state.
type NAdam struct {
	state
	s NAdamSettings
}

// NewNAdam returns NAdam for n parameters, or an error if a setting is
// invalid.
func NewNAdam(n int, s NAdamSettings) (*NAdam, error) {
	const kind = "NAdam"
	s.LR = withDefault(s.LR, 2e-3)
	s.Eps = withDefault(s.Eps, 1e-8)
	if err := numerr.First(
		checkAdamLike(kind, s.Beta1, s.Beta2, s.Eps, s.WeightDecay),
		checkNonNeg(kind, "MomentumDecay", s.MomentumDecay),
	); err != nil {
		return nil, err
	}
	st, err := newState(kind, n, s.LR, 1, signed, square)
	if err != nil {
		return nil, err
	}
	o := &NAdam{state: st, s: s}
	o.Reset()
	return o, nil
}

// Reset returns the optimizer to its initial state.
func (o *NAdam) Reset() {
	o.state.Reset()
	o.scalars[0] = 1 // the empty product Π₀
}

// Step takes one step; see Optimizer.
func (o *NAdam) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	t := float64(o.steps)
	b1, c1, b2, c2 := o.s.Beta1, 1-o.s.Beta1, o.s.Beta2, 1-o.s.Beta2
	eps, psi, sg := o.s.Eps, o.s.MomentumDecay, sign(o.s.Maximize)
	bc2 := 1 - math.Pow(b2, t)
	mu := b1 * (1 - float64(0.5*math.Pow(0.96, t*psi)))
	muNext := b1 * (1 - float64(0.5*math.Pow(0.96, (t+1)*psi)))
	o.scalars[0] *= mu
	prod := o.scalars[0]
	for _, r := range o.runs {
		lr, wd := o.lr*r.lrScale, o.s.WeightDecay*r.wdScale
		cg := -lr * (1 - mu) / (1 - prod)
		cm := -lr * muNext / (1 - float64(prod*muNext))
		x, grad, m, v := r.of(x), r.of(grad), r.of(o.bufs[0]), r.of(o.bufs[1])
		for i, g := range grad {
			g = penalized(g, sg, wd, x[i])
			mi := ema(m[i], b1, c1, g)
			vi := emaSq(v[i], b2, c2, g)
			m[i], v[i] = mi, vi
			d := math.Sqrt(vi/bc2) + eps
			xi := x[i] + float64(cg*g)/d
			x[i] = xi + float64(cm*mi)/d
		}
	}
	return nil
}
