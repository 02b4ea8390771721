package firstorder

import "math"

var _ Optimizer = (*Adamax)(nil)

// AdamaxSettings configures Adamax. DefaultAdamaxSettings returns
// torch.optim.Adamax's defaults; the zero value differs from them in Beta1
// and Beta2, which are 0 there.
type AdamaxSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 2e-3.
	LR float64

	// Beta1 and Beta2 are the decay rates in [0, 1) of the first moment and
	// of the infinity norm. 0 means no averaging (Beta1) and a norm of the
	// current gradient only (Beta2).
	Beta1, Beta2 float64

	// Eps is ε > 0, added to |g| in the norm. If Eps is 0 it is defaulted to
	// 1e-8.
	Eps float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultAdamaxSettings returns torch.optim.Adamax's defaults: LR 2e-3,
// Beta1 0.9, Beta2 0.999, Eps 1e-8, no weight decay.
func DefaultAdamaxSettings() AdamaxSettings {
	return AdamaxSettings{LR: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Adamax is the infinity-norm variant of Adam (Kingma & Ba, 2015, §7.1), as
// torch.optim.Adamax. With gradient g (plus λθ if WeightDecay is set) at step
// t = 1, 2, …:
//
//	m ← β₁m + (1−β₁)g
//	u ← max(β₂u, |g| + ε)
//	θ ← θ − lr/(1−β₁ᵗ) · m/u
//
// The paper has no ε; torch adds it to |g| inside the maximum, so u is never
// 0, and so does this. The seed article adds ε to u in the denominator
// instead, which differs from both only while u is of the order of ε.
type Adamax struct {
	state
	s AdamaxSettings
}

// NewAdamax returns Adamax for n parameters, or an error if a setting is
// invalid.
func NewAdamax(n int, s AdamaxSettings) (*Adamax, error) {
	const kind = "Adamax"
	s.LR = withDefault(s.LR, 2e-3)
	s.Eps = withDefault(s.Eps, 1e-8)
	st, err := adamLikeState(kind, false, n, s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay)
	if err != nil {
		return nil, err
	}
	return &Adamax{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *Adamax) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	b1, c1, b2 := o.s.Beta1, 1-o.s.Beta1, o.s.Beta2
	eps, sg := o.s.Eps, sign(o.s.Maximize)
	bc1 := 1 - math.Pow(b1, float64(o.steps))
	for _, r := range o.runs {
		nclr, wd := -(o.lr * r.lrScale / bc1), o.s.WeightDecay*r.wdScale
		x, grad, m, u := r.of(x), r.of(grad), r.of(o.bufs[0]), r.of(o.bufs[1])
		for i, g := range grad {
			g = penalized(g, sg, wd, x[i])
			mi := ema(m[i], b1, c1, g)
			ui := max(u[i]*b2, math.Abs(g)+eps)
			m[i], u[i] = mi, ui
			x[i] += float64(nclr*mi) / ui
		}
	}
	return nil
}
