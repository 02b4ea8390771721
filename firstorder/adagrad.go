package firstorder

import (
	"math"

	"github.com/curvkit/curvkit/internal/numerr"
)

var _ Optimizer = (*Adagrad)(nil)

// AdagradSettings configures Adagrad. The zero value is torch.optim.Adagrad's
// defaults.
type AdagradSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-2.
	LR float64

	// LRDecay ≥ 0 divides the learning rate of step t by 1 + (t−1)·LRDecay.
	// 0 means no decay.
	LRDecay float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// InitialAccumulator ≥ 0 is the starting value of the sum of squared
	// gradients. 0 means the sum starts empty.
	InitialAccumulator float64

	// Eps is ε > 0, added to the denominator. If Eps is 0 it is defaulted to
	// 1e-10.
	Eps float64

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// Adagrad is the adaptive gradient method of Duchi, Hazan & Singer (2011), as
// torch.optim.Adagrad. With gradient g (plus λθ if WeightDecay is set) at step
// t = 1, 2, …:
//
//	G ← G + g²
//	θ ← θ − lr/(1 + (t−1)·LRDecay) · g / (√G + ε)
//
// G is the sum of squared gradients and the update multiplies g, not g²,
// element-wise: the seed article's formula has both printed wrongly (its
// pseudo-code is right).
type Adagrad struct {
	state
	s AdagradSettings
}

// NewAdagrad returns Adagrad for n parameters, or an error if a setting is
// invalid.
func NewAdagrad(n int, s AdagradSettings) (*Adagrad, error) {
	const kind = "Adagrad"
	s.LR = withDefault(s.LR, 1e-2)
	s.Eps = withDefault(s.Eps, 1e-10)
	if err := numerr.First(
		checkNonNeg(kind, "LRDecay", s.LRDecay),
		checkNonNeg(kind, "WeightDecay", s.WeightDecay),
		checkNonNeg(kind, "InitialAccumulator", s.InitialAccumulator),
		checkEps(kind, s.Eps),
	); err != nil {
		return nil, err
	}
	st, err := newState(kind, n, s.LR, 0, square)
	if err != nil {
		return nil, err
	}
	o := &Adagrad{state: st, s: s}
	o.Reset()
	return o, nil
}

// Reset returns the optimizer to its initial state.
func (o *Adagrad) Reset() {
	o.state.Reset()
	for i := range o.bufs[0] {
		o.bufs[0][i] = o.s.InitialAccumulator
	}
}

// Step takes one step; see Optimizer.
func (o *Adagrad) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	decay := 1 + float64(float64(o.steps-1)*o.s.LRDecay)
	eps, sg := o.s.Eps, sign(o.s.Maximize)
	for _, r := range o.runs {
		nclr, wd := -(o.lr * r.lrScale / decay), o.s.WeightDecay*r.wdScale
		x, grad, sum := r.of(x), r.of(grad), r.of(o.bufs[0])
		for i, g := range grad {
			g = penalized(g, sg, wd, x[i])
			si := sum[i] + float64(g*g)
			sum[i] = si
			x[i] += float64(nclr*g) / (math.Sqrt(si) + eps)
		}
	}
	return nil
}
