package firstorder

import (
	"math"

	"github.com/curvkit/curvkit/internal/numerr"
)

var (
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*AdamW)(nil)
)

// AdamSettings configures Adam. DefaultAdamSettings returns
// torch.optim.Adam's defaults; the zero value differs from them in Beta1 and
// Beta2, which are 0 there.
type AdamSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-3.
	LR float64

	// Beta1 is the decay rate β₁ in [0, 1) of the first-moment average. 0
	// means no averaging: m is the current gradient.
	Beta1 float64

	// Beta2 is the decay rate β₂ in [0, 1) of the second-moment average. 0
	// means v is the current gradient squared.
	Beta2 float64

	// Eps is ε > 0, added to the denominator. If Eps is 0 it is defaulted
	// to 1e-8.
	Eps float64

	// WeightDecay is the L2 penalty λ ≥ 0 added to the gradient, g + λθ
	// (coupled, unlike AdamW). 0 means none.
	WeightDecay float64

	// AMSGrad divides by the running maximum of the bias-corrected second
	// moment instead of its current value (Reddi et al., 2018).
	AMSGrad bool

	// Maximize ascends the objective: the gradient is negated before
	// anything else, as torch's maximize flag.
	Maximize bool
}

// DefaultAdamSettings returns torch.optim.Adam's defaults: LR 1e-3, Beta1
// 0.9, Beta2 0.999, Eps 1e-8, no weight decay, no AMSGrad.
func DefaultAdamSettings() AdamSettings {
	return AdamSettings{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// AdamWSettings configures AdamW. DefaultAdamWSettings returns
// torch.optim.AdamW's defaults; the zero value differs from them in Beta1,
// Beta2 and WeightDecay, which are 0 there.
type AdamWSettings struct {
	// LR is the learning rate. If LR is 0 it is defaulted to 1e-3.
	LR float64

	// Beta1 and Beta2 are as in AdamSettings: 0 means 0.
	Beta1, Beta2 float64

	// Eps is ε > 0. If Eps is 0 it is defaulted to 1e-8.
	Eps float64

	// WeightDecay is the decoupled decay λ ≥ 0: each step first scales θ by
	// 1 − lr·λ. 0 means no decay, which makes AdamW Adam.
	WeightDecay float64

	// AMSGrad and Maximize are as in AdamSettings.
	AMSGrad, Maximize bool
}

// DefaultAdamWSettings returns torch.optim.AdamW's defaults: LR 1e-3, Beta1
// 0.9, Beta2 0.999, Eps 1e-8, WeightDecay 1e-2, no AMSGrad.
func DefaultAdamWSettings() AdamWSettings {
	return AdamWSettings{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2}
}

// Adam is adaptive moment estimation (Kingma & Ba, 2015) with bias
// correction, as torch.optim.Adam. With gradient g (plus λθ if WeightDecay is
// set) at step t = 1, 2, …:
//
//	m ← β₁m + (1−β₁)g
//	v ← β₂v + (1−β₂)g²
//	θ ← θ − lr/(1−β₁ᵗ) · m / (√(v/(1−β₂ᵗ)) + ε)
//
// With AMSGrad the denominator uses v_max ← max(v_max, v), kept across
// steps, in place of v (the maximum of the uncorrected v, as torch does).
//
// ε is added after the square root, as in torch and the paper. The seed
// article's pseudo-code runs t from 0, which divides by 1−β⁰ = 0 in the bias
// correction; t starts at 1 here, so the first step has size lr·|g|/(|g|+ε)
// ≈ lr in every coordinate.
type Adam struct {
	adamBase
}

// NewAdam returns Adam for n parameters, or an error if a setting is invalid.
func NewAdam(n int, s AdamSettings) (*Adam, error) {
	b, err := newAdamBase("Adam", n, s, false)
	if err != nil {
		return nil, err
	}
	return &Adam{b}, nil
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as
// torch.optim.AdamW: each step first scales θ by 1 − lr·λ, then takes Adam's
// step with the plain gradient. Unlike Adam's L2 penalty, the decay is not
// divided by √v̂, so every weight decays at the same relative rate.
type AdamW struct {
	adamBase
}

// NewAdamW returns AdamW for n parameters, or an error if a setting is
// invalid.
func NewAdamW(n int, s AdamWSettings) (*AdamW, error) {
	b, err := newAdamBase("AdamW", n, AdamSettings(s), true)
	if err != nil {
		return nil, err
	}
	return &AdamW{b}, nil
}

// adamBase is the state and the update of Adam and AdamW, whose settings
// have the same fields; decoupled selects AdamW's weight decay.
type adamBase struct {
	state
	s         AdamSettings
	decoupled bool
}

func newAdamBase(kind string, n int, s AdamSettings, decoupled bool) (adamBase, error) {
	s.LR = withDefault(s.LR, 1e-3)
	s.Eps = withDefault(s.Eps, 1e-8)
	st, err := adamLikeState(kind, s.AMSGrad, n, s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay)
	return adamBase{state: st, s: s, decoupled: decoupled}, err
}

// Step takes one step; see Optimizer.
func (o *adamBase) Step(x, grad []float64) error {
	if err := o.begin(x, grad); err != nil {
		return err
	}
	s := o.s
	adamStep(&o.state, x, grad, s.Beta1, s.Beta2, s.Eps, s.WeightDecay, o.decoupled, s.AMSGrad, s.Maximize)
	return nil
}

// adamStep is the update shared by Adam (L2 penalty wd) and AdamW (θ scaled
// by 1 − lr·wd, decoupled); bufs are m, v and, with AMSGrad, v_max. The
// caller has counted the step.
func adamStep(st *state, x, grad []float64, b1, b2, eps, wd float64, decoupled, amsgrad, maximize bool) {
	t := float64(st.steps)
	bc1, ibc2s := 1-math.Pow(b1, t), 1/math.Sqrt(1-math.Pow(b2, t))
	sg := sign(maximize)
	for _, r := range st.runs {
		lr, wd := st.lr*r.lrScale, wd*r.wdScale
		// m's coefficient carries the gradient's sign: (sg·c₁)·g is
		// c₁·(sg·g) exactly, and v's (c₂·g)·g does not depend on it.
		k := adamCoef{
			b1: b1, c1: sg * (1 - b1),
			b2: b2, c2: 1 - b2,
			decay: 1,
			nstep: -(lr / bc1),
			ibc2s: ibc2s,
			eps:   eps,
		}
		if decoupled {
			k.decay, wd = 1-float64(lr*wd), 0
		}
		x, grad, m, v := r.of(x), r.of(grad), r.of(st.bufs[0]), r.of(st.bufs[1])
		if wd == 0 && !amsgrad {
			adam(x, grad, m, v, &k)
			continue
		}
		var vmax []float64
		if amsgrad {
			vmax = r.of(st.bufs[2])
		}
		adamLoop(x, grad, m, v, vmax, &k, wd, sg)
	}
}

// adamLoop is Adam's element-wise update with an L2 penalty wd or AMSGrad's
// maximum vmax (nil without), which the kernels do not have.
func adamLoop(x, grad, m, v, vmax []float64, k *adamCoef, wd, sg float64) {
	grad, m, v = grad[:len(x)], m[:len(x)], v[:len(x)]
	c1 := sg * k.c1 // the plain c₁: g carries the sign here
	for i, g := range grad {
		g = penalized(g, sg, wd, x[i])
		mi := ema(m[i], k.b1, c1, g)
		vi := emaSq(v[i], k.b2, k.c2, g)
		m[i], v[i] = mi, vi
		if vmax != nil {
			vi = max(vmax[i], vi)
			vmax[i] = vi
		}
		x[i] = float64(x[i]*k.decay) + float64(k.nstep*mi)/(float64(math.Sqrt(vi)*k.ibc2s)+k.eps)
	}
}

// adamLikeState checks the settings the Adam family shares and returns the
// state of kind with the buffers adamBufs(amsgrad).
func adamLikeState(kind string, amsgrad bool, n int, lr, b1, b2, eps, wd float64) (state, error) {
	if err := checkAdamLike(kind, b1, b2, eps, wd); err != nil {
		return state{}, err
	}
	return newState(kind+variant(amsgrad, "-amsgrad"), n, lr, 0, adamBufs(amsgrad)...)
}

// checkAdamLike checks the settings the Adam family shares.
func checkAdamLike(kind string, b1, b2, eps, wd float64) error {
	return numerr.First(
		checkBeta(kind, "Beta1", b1),
		checkBeta(kind, "Beta2", b2),
		checkEps(kind, eps),
		checkNonNeg(kind, "WeightDecay", wd),
	)
}

// adamBufs returns the buffer kinds of Adam, AdamW and AdaBelief: the first
// and second moments, then the maximum of the second with AMSGrad.
func adamBufs(amsgrad bool) []bufKind {
	if amsgrad {
		return []bufKind{signed, square, square}
	}
	return []bufKind{signed, square}
}
