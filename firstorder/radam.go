package firstorder

import "math"

var _ Optimizer = (*RAdam)(nil)

// RAdamSettings configures RAdam. DefaultRAdamSettings returns
// torch.optim.RAdam's defaults; the zero value differs from them in Beta1
// and Beta2, which are 0 there.
type RAdamSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-3.
	LR float64

	// Beta1 and Beta2 are the decay rates in [0, 1) of the moment averages.
	// 0 means no averaging; with Beta2 = 0 the variance is never
	// rectifiable (ρ∞ = 1), so every step is the momentum step.
	Beta1, Beta2 float64

	// Eps is ε > 0, added to the denominator. If Eps is 0 it is defaulted to
	// 1e-8.
	Eps float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultRAdamSettings returns torch.optim.RAdam's defaults: LR 1e-3, Beta1
// 0.9, Beta2 0.999, Eps 1e-8, no weight decay.
func DefaultRAdamSettings() RAdamSettings {
	return RAdamSettings{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// RAdam is rectified Adam (Liu et al., 2020), as torch.optim.RAdam. With
// gradient g (plus λθ if WeightDecay is set) at step t = 1, 2, …, m and v as
// in Adam, ρ∞ = 2/(1−β₂) − 1 and ρ_t = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ):
//
//	if ρ_t > 5:  θ ← θ − lr · m/(1−β₁ᵗ) · r_t·√(1−β₂ᵗ)/(√v + ε)
//	otherwise:   θ ← θ − lr · m/(1−β₁ᵗ)
//
// with r_t = √((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t)). While the variance of
// the adaptive step is not yet defined (the first steps; six with the
// default β₂) it takes a momentum step without the denominator.
type RAdam struct {
	state
	s RAdamSettings
}

// NewRAdam returns RAdam for n parameters, or an error if a setting is
// invalid.
func NewRAdam(n int, s RAdamSettings) (*RAdam, error) {
	const kind = "RAdam"
	s.LR = withDefault(s.LR, 1e-3)
	s.Eps = withDefault(s.Eps, 1e-8)
	st, err := adamLikeState(kind, false, n, s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay)
	if err != nil {
		return nil, err
	}
	return &RAdam{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *RAdam) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	t := float64(o.steps)
	b1, c1, b2, c2 := o.s.Beta1, 1-o.s.Beta1, o.s.Beta2, 1-o.s.Beta2
	eps, sg := o.s.Eps, sign(o.s.Maximize)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	rhoInf := 2/(1-b2) - 1
	rho := rhoInf - 2*t*math.Pow(b2, t)/bc2
	rectified := rho > 5
	var rect, bc2s float64
	if rectified {
		rect = math.Sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho))
		bc2s = math.Sqrt(bc2)
	}
	for _, r := range o.runs {
		lr, wd := o.lr*r.lrScale, o.s.WeightDecay*r.wdScale
		x, grad, m, v := r.of(x), r.of(grad), r.of(o.bufs[0]), r.of(o.bufs[1])
		for i, g := range grad {
			g = penalized(g, sg, wd, x[i])
			mi := ema(m[i], b1, c1, g)
			vi := emaSq(v[i], b2, c2, g)
			m[i], v[i] = mi, vi
			u := float64(mi/bc1) * lr
			if rectified {
				u = float64(float64(u*(bc2s/(math.Sqrt(vi)+eps))) * rect)
			}
			x[i] -= u
		}
	}
	return nil
}
