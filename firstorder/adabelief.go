package firstorder

import "math"

var _ Optimizer = (*AdaBelief)(nil)

// AdaBeliefSettings configures AdaBelief. DefaultAdaBeliefSettings returns
// the defaults of the authors' adabelief-pytorch 0.2 except for
// rectification, which is off unless Rectify is set (0.2 turns it on by
// default); the zero value differs from them in Beta1 and Beta2, which are 0
// there.
type AdaBeliefSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-3.
	LR float64

	// Beta1 and Beta2 are the decay rates in [0, 1) of the moment averages.
	// 0 means no averaging.
	Beta1, Beta2 float64

	// Eps is ε > 0, added to s every step and to the denominator. If Eps is
	// 0 it is defaulted to 1e-16. The authors note that AdaBelief's ε plays
	// the role of Adam's ε squared.
	Eps float64

	// WeightDecay is λ ≥ 0. Unless CoupledWeightDecay is set it is decoupled
	// as in AdamW: each step first scales θ by 1 − lr·λ (1 − λ with
	// FixedDecay). 0 means none.
	WeightDecay float64

	// CoupledWeightDecay adds λθ to the gradient instead (L2 penalty).
	CoupledWeightDecay bool

	// FixedDecay scales θ by 1 − λ, independently of the learning rate.
	FixedDecay bool

	// AMSGrad keeps the running maximum of s (after adding ε) and divides
	// by it in the unrectified update.
	AMSGrad bool

	// Rectify applies RAdam's variance rectification.
	Rectify bool

	// NoSGDWarmup skips the update, instead of taking the momentum step
	// θ ← θ − lr·m/(1−β₁ᵗ), in the first steps where rectification is
	// undefined (the reference's degenerated_to_sgd=False). Only with
	// Rectify.
	NoSGDWarmup bool

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag does for its optimizers (the
	// reference implementation has no such flag).
	Maximize bool
}

// DefaultAdaBeliefSettings returns adabelief-pytorch 0.2's defaults but
// unrectified: LR 1e-3, Beta1 0.9, Beta2 0.999, Eps 1e-16, no weight decay
// (decoupled when set), no AMSGrad, Rectify false. Set Rectify (and leave
// NoSGDWarmup false) for 0.2's own default.
func DefaultAdaBeliefSettings() AdaBeliefSettings {
	return AdaBeliefSettings{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-16}
}

// AdaBelief adapts the step to the "belief" in the gradient (Zhuang et al.,
// 2020), following the authors' reference implementation adabelief-pytorch
// 0.2. With gradient g at step t = 1, 2, …:
//
//	m ← β₁m + (1−β₁)g
//	s ← β₂s + (1−β₂)(g−m)² + ε
//	θ ← θ − lr/(1−β₁ᵗ) · m / (√(s/(1−β₂ᵗ)) + ε)
//
// The second moment is the variance of g around its average m (the new m), not
// the mean of g² as in Adam; ε is added to s on every step (and so
// accumulates in it) and again outside the root, as in the reference and the
// paper's Algorithm 2. The seed article's pseudo-code omits both ε terms.
// With AMSGrad the denominator uses s_max ← max(s_max, s).
//
// With Rectify, ρ_t as in RAdam and r_t its rectifier:
//
//	if ρ_t ≥ 5:  θ ← θ − lr·r_t·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√s + ε)
//	otherwise:   θ ← θ − lr/(1−β₁ᵗ) · m   (or no update, with NoSGDWarmup)
//
// where, as in the reference, the rectified step uses s itself even with
// AMSGrad, and the threshold is ρ_t ≥ 5 where RAdam has ρ_t > 5.
type AdaBelief struct {
	state
	s AdaBeliefSettings
}

// NewAdaBelief returns AdaBelief for n parameters, or an error if a setting
// is invalid.
func NewAdaBelief(n int, s AdaBeliefSettings) (*AdaBelief, error) {
	const kind = "AdaBelief"
	s.LR = withDefault(s.LR, 1e-3)
	s.Eps = withDefault(s.Eps, 1e-16)
	st, err := adamLikeState(kind, s.AMSGrad, n, s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay)
	if err != nil {
		return nil, err
	}
	return &AdaBelief{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *AdaBelief) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	t := float64(o.steps)
	b2 := o.s.Beta2
	bc1 := 1 - math.Pow(o.s.Beta1, t)
	b2t := math.Pow(b2, t)
	bc2 := 1 - b2t

	// θ ← θ + c·m/(√s/r + ε) unrectified, θ ← θ + c·m/(√s + ε) rectified,
	// θ ← θ + c·m in the warm-up steps of rectification; c depends on the
	// group's rate.
	rectified, sgdStep := false, false
	var rect float64
	if o.s.Rectify {
		rhoInf := 2/(1-b2) - 1
		rho := rhoInf - 2*t*b2t/(1-b2t)
		switch {
		case rho >= 5:
			rectified = true
			rect = math.Sqrt(bc2*(rho-4)/(rhoInf-4)*(rho-2)/rho*rhoInf/(rhoInf-2)) / bc1
		default:
			sgdStep = true
		}
	}
	for _, r := range o.runs {
		lr, wd := o.lr*r.lrScale, o.s.WeightDecay*r.wdScale
		var c float64
		switch {
		case rectified:
			c = -rect * lr
		case sgdStep && o.s.NoSGDWarmup:
			c = 0 // the reference leaves θ alone, decay and moments aside
		case sgdStep:
			c = -(1 / bc1) * lr
		default:
			c = -(lr / bc1)
		}
		var smax []float64
		if o.s.AMSGrad {
			smax = r.of(o.bufs[2])
		}
		o.update(r.of(x), r.of(grad), r.of(o.bufs[0]), r.of(o.bufs[1]), smax, lr, wd, c, math.Sqrt(bc2), rectified, sgdStep)
	}
	return nil
}

// update is the step of one run with learning rate lr, weight decay wd and
// step coefficient c; m, sv and smax are the run's part of the buffers.
func (o *AdaBelief) update(x, grad, m, sv, smax []float64, lr, wd, c, r float64, rectified, sgdStep bool) {
	b1, c1, b2, c2 := o.s.Beta1, 1-o.s.Beta1, o.s.Beta2, 1-o.s.Beta2
	eps, sg := o.s.Eps, sign(o.s.Maximize)
	decay := 1.0 // decoupled scaling
	switch {
	case o.s.CoupledWeightDecay:
		// wd is the coupled L2 penalty
	case o.s.FixedDecay:
		decay, wd = 1-wd, 0
	default:
		decay, wd = 1-float64(lr*wd), 0
	}
	grad, m, sv = grad[:len(x)], m[:len(x)], sv[:len(x)]
	for i, g := range grad {
		g *= sg
		xi := x[i]
		if wd != 0 {
			g += float64(wd * xi)
		} else {
			xi *= decay
		}
		mi := ema(m[i], b1, c1, g)
		res := g - mi
		si := emaSq(sv[i], b2, c2, res)
		si += eps
		m[i], sv[i] = mi, si
		sd := si // what the unrectified step divides by
		if smax != nil {
			sd = max(smax[i], si)
			smax[i] = sd
		}
		switch {
		case sgdStep:
			xi += float64(c * mi)
		case rectified:
			xi += float64(c*mi) / (math.Sqrt(si) + eps)
		default:
			xi += float64(c*mi) / (math.Sqrt(sd)/r + eps)
		}
		x[i] = xi
	}
}
