package firstorder

import (
	"math"

	"github.com/curvkit/curvkit/internal/numerr"
)

var _ Optimizer = (*RMSprop)(nil)

// RMSpropSettings configures RMSprop. DefaultRMSpropSettings returns
// torch.optim.RMSprop's defaults; the zero value differs from them in Alpha,
// which is 0 there.
type RMSpropSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-2.
	LR float64

	// Alpha is the decay rate α in [0, 1) of the squared-gradient average. 0
	// means no averaging: s is the current gradient squared.
	Alpha float64

	// Eps is ε > 0, added to the denominator. If Eps is 0 it is defaulted to
	// 1e-8.
	Eps float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient. 0 means
	// none.
	WeightDecay float64

	// Momentum is μ in [0, 1) applied to the scaled gradient. 0 means no
	// momentum.
	Momentum float64

	// Centered divides by an estimate of the gradient's standard deviation,
	// √(E[g²] − E[g]²), instead of its root mean square (Graves, 2013).
	Centered bool

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultRMSpropSettings returns torch.optim.RMSprop's defaults: LR 1e-2,
// Alpha 0.99, Eps 1e-8, no weight decay, no momentum, not centered.
func DefaultRMSpropSettings() RMSpropSettings {
	return RMSpropSettings{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}
}

// RMSprop is Hinton's root-mean-square propagation, as torch.optim.RMSprop.
// With gradient g (plus λθ if WeightDecay is set):
//
//	s ← αs + (1−α)g²
//	a ← αa + (1−α)g               (Centered only)
//	d ← √s + ε, or √(s − a²) + ε   (Centered)
//	θ ← θ − lr·g/d, or with momentum b ← μb + g/d, θ ← θ − lr·b
//
// The update multiplies g, not g², element-wise: the seed article's formula
// is misprinted (its pseudo-code is right). There is no bias correction, so
// with the default α the first steps are about 10× lr.
//
// Centered, s − a² is a variance, ≥ 0 in exact arithmetic; where rounding
// makes it negative (a gradient that barely changes, for example) it is
// taken as 0, so d = ε. Torch takes the square root of the negative number
// there and writes NaN into θ.
type RMSprop struct {
	state
	s RMSpropSettings
}

// NewRMSprop returns RMSprop for n parameters, or an error if a setting is
// invalid. Its buffers, in saved-state order, are s, then a if Centered,
// then b if Momentum > 0.
func NewRMSprop(n int, s RMSpropSettings) (*RMSprop, error) {
	const kind = "RMSprop"
	s.LR = withDefault(s.LR, 1e-2)
	s.Eps = withDefault(s.Eps, 1e-8)
	if err := numerr.First(
		checkBeta(kind, "Alpha", s.Alpha),
		checkEps(kind, s.Eps),
		checkNonNeg(kind, "WeightDecay", s.WeightDecay),
		checkBeta(kind, "Momentum", s.Momentum),
	); err != nil {
		return nil, err
	}
	name := kind + variant(s.Centered, "-centered") + variant(s.Momentum != 0, "-momentum")
	bufs := []bufKind{square}
	if s.Centered {
		bufs = append(bufs, signed)
	}
	if s.Momentum != 0 {
		bufs = append(bufs, signed)
	}
	st, err := newState(name, n, s.LR, 0, bufs...)
	if err != nil {
		return nil, err
	}
	return &RMSprop{state: st, s: s}, nil
}

// Step takes one step; see Optimizer.
func (o *RMSprop) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	for _, r := range o.runs {
		var avg, buf []float64
		k := 1
		if o.s.Centered {
			avg = r.of(o.bufs[k])
			k++
		}
		if o.s.Momentum != 0 {
			buf = r.of(o.bufs[k])
		}
		o.update(r.of(x), r.of(grad), r.of(o.bufs[0]), avg, buf, -(o.lr * r.lrScale), o.s.WeightDecay*r.wdScale)
	}
	return nil
}

// update is the step of one run with learning rate −nlr and weight decay
// wd: sq, avg and buf are the run's part of s, a and b (nil if unused).
func (o *RMSprop) update(x, grad, sq, avg, buf []float64, nlr, wd float64) {
	alpha, c := o.s.Alpha, 1-o.s.Alpha
	eps, mom, sg := o.s.Eps, o.s.Momentum, sign(o.s.Maximize)
	grad, sq = grad[:len(x)], sq[:len(x)]
	for i, g := range grad {
		g = penalized(g, sg, wd, x[i])
		si := emaSq(sq[i], alpha, c, g)
		sq[i] = si
		if avg != nil {
			ai := ema(avg[i], alpha, c, g)
			avg[i] = ai
			si = max(si-float64(ai*ai), 0)
		}
		d := math.Sqrt(si) + eps
		if buf != nil {
			bi := float64(buf[i]*mom) + g/d
			buf[i] = bi
			x[i] += float64(nlr * bi)
		} else {
			x[i] += float64(nlr*g) / d
		}
	}
}
