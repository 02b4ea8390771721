package firstorder

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/curvkit/curvkit/internal/binstate"
)

// LBFGSSettings configures LBFGS. DefaultLBFGSSettings returns
// torch.optim.LBFGS's defaults; the zero value differs from them in TolGrad
// and TolChange, which are 0 there.
type LBFGSSettings struct {
	// LR scales the step: the line search starts at LR (at the first
	// iteration min(1, 1/‖g‖₁)·LR), and without it every step has that
	// length along the direction. If LR is 0 it is defaulted to 1.
	LR float64

	// MaxIter is the most iterations one Step takes. If MaxIter is 0 it is
	// defaulted to 20.
	MaxIter int

	// MaxEval is the most evaluations of the function one Step makes
	// before it stops iterating (an iteration's line search may exceed it).
	// If MaxEval is 0 it is defaulted to MaxIter·5/4, rounded down, as
	// torch's max_eval=None.
	MaxEval int

	// TolGrad ≥ 0 stops the iterations when every gradient entry is at most
	// TolGrad in magnitude. 0 means only a zero gradient stops them.
	TolGrad float64

	// TolChange ≥ 0 stops the iterations when a step moves no parameter by
	// more than TolChange, when the function changes by less, or when the
	// slope along the direction is above −TolChange. 0 means only no
	// change, or a direction that does not descend, stops them.
	TolChange float64

	// History is the number of (step, gradient change) pairs kept. If
	// History is 0 it is defaulted to 100.
	History int

	// StrongWolfe selects the line search that satisfies the strong Wolfe
	// conditions, torch's line_search_fn="strong_wolfe". Without it, torch's
	// default, each iteration takes the step of length LR along the
	// direction (min(1, 1/‖g‖₁)·LR at the first).
	StrongWolfe bool
}

// DefaultLBFGSSettings returns torch.optim.LBFGS's defaults: LR 1, MaxIter
// 20, MaxEval 0 (MaxIter·5/4, so 25 unless MaxIter changes, as in torch),
// TolGrad 1e-7, TolChange 1e-9, History 100, no line search.
func DefaultLBFGSSettings() LBFGSSettings {
	return LBFGSSettings{LR: 1, MaxIter: 20, TolGrad: 1e-7, TolChange: 1e-9, History: 100}
}

// The strong Wolfe line search's constants, which torch's LBFGS does not
// let its caller change: the sufficient-decrease and curvature factors, the
// most evaluations, and the bracket width (times ‖d‖∞) below which the
// search stops.
const (
	wolfeC1        = 1e-4
	wolfeC2        = 0.9
	wolfeMaxEvals  = 25
	wolfeTolChange = 1e-9
)

// LBFGS is the limited-memory BFGS method, as torch.optim.LBFGS (which
// follows Schmidt's minFunc), with torch's optional strong Wolfe line search.
// Each Step runs up to MaxIter iterations, as one call of torch's
// step(closure), and the state carries over to the next Step. An iteration
// at x with gradient g:
//
//	the first ever:  d = −g
//	otherwise:       s = t·d and y = g − g_prev from the previous iteration;
//	                 if yᵀs > 1e-10 the pair (s, y) joins the History newest;
//	                 d = −H·g by the two-loop recursion (Nocedal & Wright,
//	                 Alg. 7.4), H₀ = (yᵀs/yᵀy)·I from the newest pair
//	x ← x + t·d      t from the line search, or t = LR
//
// The line search is torch's _strong_wolfe, itself minFunc's: Nocedal &
// Wright's Algorithm 3.5 (bracketing a step with sufficient decrease,
// c₁ = 1e-4, and the strong curvature condition, c₂ = 0.9, extrapolating by
// cubic interpolation within [t + 0.01(t − t_prev), 10t]) and Algorithm 3.6
// (zooming in by cubic interpolation, moved to 0.1 of the bracket from its
// ends when it makes too little progress), with at most 25 evaluations. It is
// written out here rather than taken from gonum's optimize.MoreThuente, which
// satisfies the same conditions with Moré and Thuente's different
// interpolation and safeguards, so it accepts other steps and the
// trajectories would not be torch's.
//
// LBFGS needs function values as well as gradients and evaluates the
// function several times a step, so it is not an Optimizer: its Step takes
// the function, as torch's step takes a closure. It has no parameter groups,
// as torch's has none.
type LBFGS struct {
	core
	s LBFGSSettings

	iters, evals int       // torch's state n_iter and func_evals
	t            float64   // the step length of the last iteration
	d            []float64 // the direction of the last iteration
	gPrev        []float64 // the gradient at its start
	pairs        []pair    // the newest History pairs in a ring, oldest at first
	first        int       // index in pairs of the oldest pair
	spare        pair      // storage for the next pair
	hDiag        float64   // H₀'s scale, from the newest pair

	g, x0, al     []float64    // gradient at x, iterate before the search, two-loop α
	lsNew, lsPrev []float64    // the line search's newest and previous gradients
	lsBracket     [2][]float64 // the gradients at the ends of its bracket
}

// pair is one (s, y) of the L-BFGS memory with ρ = 1/yᵀs.
type pair struct {
	s, y []float64
	rho  float64
}

// NewLBFGS returns L-BFGS for n parameters, or an error if a setting is
// invalid.
func NewLBFGS(n int, s LBFGSSettings) (*LBFGS, error) {
	const kind = "LBFGS"
	if n < 1 {
		return nil, fmt.Errorf("firstorder: %s: number of parameters is %d, want at least 1", kind, n)
	}
	s.LR = withDefault(s.LR, 1)
	if s.MaxIter == 0 {
		s.MaxIter = 20
	}
	if s.MaxEval == 0 {
		s.MaxEval = s.MaxIter * 5 / 4
	}
	if s.History == 0 {
		s.History = 100
	}
	if err := checkLR(kind, s.LR); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"MaxIter", s.MaxIter}, {"MaxEval", s.MaxEval}, {"History", s.History}} {
		if f.v < 1 {
			return nil, fmt.Errorf("firstorder: %s: %s = %d, want at least 1", kind, f.name, f.v)
		}
	}
	if err := checkNonNeg(kind, "TolGrad", s.TolGrad); err != nil {
		return nil, err
	}
	if err := checkNonNeg(kind, "TolChange", s.TolChange); err != nil {
		return nil, err
	}
	o := &LBFGS{core: core{kind: kind, n: n, lr: s.LR, lr0: s.LR}, s: s}
	for _, b := range []*[]float64{&o.d, &o.gPrev, &o.g, &o.x0, &o.lsNew, &o.lsPrev, &o.lsBracket[0], &o.lsBracket[1]} {
		*b = make([]float64, n)
	}
	o.al = make([]float64, s.History)
	o.Reset()
	return o, nil
}

// Reset returns the optimizer to its initial state, forgetting the pairs.
func (o *LBFGS) Reset() {
	o.steps, o.lr = 0, o.lr0
	o.iters, o.evals, o.t, o.hDiag = 0, 0, 0, 1
	clear(o.d)
	clear(o.gPrev)
	o.pairs, o.first = o.pairs[:0], 0
}

// Iterations returns the number of iterations since built, Reset or Load,
// torch's state["n_iter"].
func (o *LBFGS) Iterations() int { return o.iters }

// Evaluations returns the number of evaluations of the function since built,
// Reset or Load, torch's state["func_evals"].
func (o *LBFGS) Evaluations() int { return o.evals }

// Step runs up to MaxIter iterations of L-BFGS from x, updating x in place,
// and returns the value of the function at x on entry, as torch's
// step(closure) does. f evaluates the function at its x, writes the gradient
// there into grad, and returns the value; it is always called with the
// caller's x itself, set to the point to evaluate, and must not modify x or
// keep grad. The iterations stop early when the gradient, the step or the
// change of the function falls below the tolerances, or after MaxEval
// evaluations.
//
// If f returns a NaN or an infinity, or a gradient holding one, at x on entry,
// Step returns an error wrapping ErrNonFinite and leaves x and the state
// unchanged. If it does so at a point tried later, Step returns such an
// error with x at the last iterate whose value and gradient were finite, and
// the state ready to continue from there (with a smaller learning rate, say).
// Without the line search the last iteration's move is not evaluated, as in
// torch; a bad point there is reported by the next Step, which leaves x at
// it. Step panics if len(x) is not Len or f is nil.
func (o *LBFGS) Step(x []float64, f func(x, grad []float64) float64) (float64, error) {
	if len(x) != o.n {
		panic(fmt.Sprintf("firstorder: %s: built for %d parameters, len(x) = %d", o.kind, o.n, len(x)))
	}
	if f == nil {
		panic("firstorder: LBFGS: nil function")
	}
	loss, err := o.eval(f, x, o.g)
	if err != nil {
		return loss, err
	}
	o.evals++
	origLoss := loss
	evals := 1
	optimal := maxAbs(o.g) <= o.s.TolGrad
	for iter := 1; iter <= o.s.MaxIter && !optimal; iter++ {
		o.iters++
		o.direction()
		copy(o.gPrev, o.g)
		prevLoss := loss
		if o.iters == 1 {
			o.t = min(1, 1/sumAbs(o.g)) * o.lr
		} else {
			o.t = o.lr
		}
		gtd := dot(o.g, o.d)
		if gtd > -o.s.TolChange {
			break
		}
		copy(o.x0, x)
		var n int
		if o.s.StrongWolfe {
			var t float64
			loss, t, n, err = o.strongWolfe(f, x, loss, gtd)
			if err != nil {
				o.evals += n
				copy(x, o.x0)
				return origLoss, err
			}
			o.t = t
			move(x, o.x0, o.t, o.d)
		} else {
			move(x, o.x0, o.t, o.d)
			if iter < o.s.MaxIter {
				if loss, err = o.eval(f, x, o.g); err != nil {
					copy(x, o.x0)
					return origLoss, err
				}
				n = 1
			}
		}
		optimal = maxAbs(o.g) <= o.s.TolGrad
		evals += n
		o.evals += n
		if evals >= o.s.MaxEval || o.t*maxAbs(o.d) <= o.s.TolChange || math.Abs(loss-prevLoss) < o.s.TolChange {
			break
		}
	}
	o.steps++
	return origLoss, nil
}

// eval calls f at x, checks that the value and the gradient it wrote into
// grad are finite, and returns the value.
func (o *LBFGS) eval(f func(x, grad []float64) float64, x, grad []float64) (float64, error) {
	v := f(x, grad)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, fmt.Errorf("firstorder: %s: f(x) = %v: %w", o.kind, v, ErrNonFinite)
	}
	return v, checkFinite(o.kind, grad)
}

// direction sets d to −H·g: the steepest descent at the first iteration,
// otherwise after adding the previous iteration's pair, if its curvature
// yᵀs is positive enough, the two-loop recursion over the pairs.
func (o *LBFGS) direction() {
	if o.iters == 1 {
		for i, g := range o.g {
			o.d[i] = -g
		}
		o.pairs, o.first, o.hDiag = o.pairs[:0], 0, 1
		return
	}
	o.addPair()
	q := o.d // d is free once its s = t·d is stored or dropped
	for i, g := range o.g {
		q[i] = -g
	}
	k := len(o.pairs)
	for j := k - 1; j >= 0; j-- {
		p := &o.pairs[(o.first+j)%k]
		a := float64(dot(p.s, q) * p.rho)
		o.al[j] = a
		axpy(q, -a, p.y)
	}
	for i := range q {
		q[i] *= o.hDiag
	}
	for j := range k {
		p := &o.pairs[(o.first+j)%k]
		b := float64(dot(p.y, q) * p.rho)
		axpy(q, o.al[j]-b, p.s)
	}
}

// addPair forms s = t·d and y = g − g_prev of the previous iteration and
// keeps them, dropping the oldest pair when History are kept, if yᵀs >
// 1e-10, the curvature condition that keeps H positive definite.
func (o *LBFGS) addPair() {
	if o.spare.s == nil {
		o.spare = pair{s: make([]float64, o.n), y: make([]float64, o.n)}
	}
	p := o.spare
	for i := range p.s {
		p.s[i] = float64(o.d[i] * o.t)
		p.y[i] = o.g[i] - o.gPrev[i]
	}
	ys := dot(p.y, p.s)
	if !(ys > 1e-10) {
		return
	}
	p.rho = 1 / ys
	if k := len(o.pairs); k == o.s.History {
		o.spare = o.pairs[o.first]
		o.pairs[o.first] = p
		o.first = (o.first + 1) % k
	} else {
		o.pairs = append(o.pairs, p)
		o.spare = pair{}
	}
	o.hDiag = ys / dot(p.y, p.y)
}

// strongWolfe is torch's _strong_wolfe along o.d from o.x0, where the
// function is f0 with gradient o.g and slope gtd, from the trial step o.t.
// It returns the value at the step it accepts, the step and the number of
// evaluations, and leaves the gradient there in o.g. Comparisons and
// arithmetic follow torch's order, Python's max and min included.
func (o *LBFGS) strongWolfe(fn func(x, grad []float64) float64, x []float64, f0, gtd float64) (float64, float64, int, error) {
	dNorm := maxAbs(o.d)
	t := o.t
	fNew, gtdNew, err := o.try(fn, x, t, o.lsNew)
	if err != nil {
		return 0, 0, 0, err
	}
	evals := 1
	armijo := func(t, f float64) bool { return f > f0+float64(float64(wolfeC1*t)*gtd) }
	curvature := func(gtdNew float64) bool { return math.Abs(gtdNew) <= -wolfeC2*gtd }

	// Bracketing (Nocedal & Wright, Alg. 3.5): extrapolate until the step
	// satisfies both conditions, or an interval [b₀, b₁] holds one.
	tPrev, fPrev, gtdPrev := 0.0, f0, gtd
	copy(o.lsPrev, o.g)
	var b, bf, bgtd [2]float64
	bg := o.lsBracket
	done := false
	iter := 0
	for iter < wolfeMaxEvals {
		tooFar := armijo(t, fNew) || (iter > 1 && fNew >= fPrev)
		if !tooFar && curvature(gtdNew) {
			b[0], bf[0] = t, fNew
			copy(bg[0], o.lsNew)
			done = true
			break
		}
		if tooFar || gtdNew >= 0 {
			b, bf, bgtd = [2]float64{tPrev, t}, [2]float64{fPrev, fNew}, [2]float64{gtdPrev, gtdNew}
			copy(bg[0], o.lsPrev)
			copy(bg[1], o.lsNew)
			break
		}
		minStep, maxStep := t+float64(0.01*(t-tPrev)), t*10
		tPrev, t = t, cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, minStep, maxStep)
		fPrev, gtdPrev = fNew, gtdNew
		o.lsPrev, o.lsNew = o.lsNew, o.lsPrev
		if fNew, gtdNew, err = o.try(fn, x, t, o.lsNew); err != nil {
			return 0, 0, evals, err
		}
		evals++
		iter++
	}
	if iter == wolfeMaxEvals {
		// Out of evaluations: the bracket is [0, t], and no zoom follows.
		b, bf = [2]float64{0, t}, [2]float64{f0, fNew}
		copy(bg[0], o.g)
		copy(bg[1], o.lsNew)
	}

	// Zoom (Alg. 3.6): shrink the bracket, whose low end satisfies the
	// sufficient decrease with the lowest value, until a step satisfies
	// the curvature condition too.
	low, high := 0, 1
	if !(bf[0] <= bf[1]) && !done {
		low, high = 1, 0
	}
	insufficient := false
	for !done && iter < wolfeMaxEvals {
		if float64(math.Abs(b[1]-b[0])*dNorm) < wolfeTolChange {
			break
		}
		lo, hi := pyMin(b[0], b[1]), pyMax(b[0], b[1])
		t = cubicInterpolate(b[0], bf[0], bgtd[0], b[1], bf[1], bgtd[1], lo, hi)
		// Too close to an end, or at it twice: move to 0.1 of the width
		// from the nearer end.
		eps := 0.1 * (hi - lo)
		if min(hi-t, t-lo) < eps {
			if insufficient || t >= hi || t <= lo {
				if math.Abs(t-hi) < math.Abs(t-lo) {
					t = hi - eps
				} else {
					t = lo + eps
				}
				insufficient = false
			} else {
				insufficient = true
			}
		} else {
			insufficient = false
		}
		if fNew, gtdNew, err = o.try(fn, x, t, o.lsNew); err != nil {
			return 0, 0, evals, err
		}
		evals++
		iter++
		if armijo(t, fNew) || fNew >= bf[low] {
			b[high], bf[high], bgtd[high] = t, fNew, gtdNew
			copy(bg[high], o.lsNew)
			low, high = 0, 1
			if !(bf[0] <= bf[1]) {
				low, high = 1, 0
			}
			continue
		}
		if curvature(gtdNew) {
			done = true
		} else if float64(gtdNew*(b[high]-b[low])) >= 0 {
			b[high], bf[high], bgtd[high] = b[low], bf[low], bgtd[low]
			copy(bg[high], bg[low])
		}
		b[low], bf[low], bgtd[low] = t, fNew, gtdNew
		copy(bg[low], o.lsNew)
	}
	copy(o.g, bg[low])
	return bf[low], b[low], evals, nil
}

// try evaluates the function at x = x0 + t·d into grad and returns the value
// and the slope gradᵀd.
func (o *LBFGS) try(fn func(x, grad []float64) float64, x []float64, t float64, grad []float64) (float64, float64, error) {
	move(x, o.x0, t, o.d)
	f, err := o.eval(fn, x, grad)
	if err != nil {
		return 0, 0, err
	}
	return f, dot(grad, o.d), nil
}

// cubicInterpolate returns the minimizer, clamped to [lo, hi], of the cubic
// that has values f1, f2 and slopes g1, g2 at x1, x2, or the middle of
// [lo, hi] if the cubic has no minimizer (torch's _cubic_interpolate, from
// minFunc's polyinterp).
func cubicInterpolate(x1, f1, g1, x2, f2, g2, lo, hi float64) float64 {
	d1 := g1 + g2 - 3*(f1-f2)/(x1-x2)
	d2sq := float64(d1*d1) - float64(g1*g2)
	if !(d2sq >= 0) {
		return (lo + hi) / 2
	}
	d2 := math.Sqrt(d2sq)
	var m float64
	if x1 <= x2 {
		m = x2 - float64((x2-x1)*((g2+d2-d1)/(g2-g1+float64(2*d2))))
	} else {
		m = x1 - float64((x1-x2)*((g1+d2-d1)/(g1-g2+float64(2*d2))))
	}
	return pyMin(pyMax(m, lo), hi)
}

// pyMax and pyMin are Python's max and min of two floats: the first unless
// the second is strictly larger (smaller), which differs from Go's only in
// the sign of a zero and for NaN.
func pyMax(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

func pyMin(a, b float64) float64 {
	if b < a {
		return b
	}
	return a
}

// Save writes the state to w, in the format the package overview documents.
func (o *LBFGS) Save(w io.Writer) error {
	return o.save(w, func(e *binstate.Encoder) {
		e.U32(0) // no parameter groups
		e.U64(uint64(o.iters))
		e.U64(uint64(o.evals))
		e.Floats([]float64{o.t})
		k := len(o.pairs)
		e.U32(uint32(k))
		e.Floats(o.d)
		e.Floats(o.gPrev)
		for j := range k {
			p := o.pairs[(o.first+j)%k]
			e.Floats(p.s)
			e.Floats(p.y)
		}
	})
}

// Load replaces the state by one written by Save from an LBFGS of the same
// length whose History is at least the number of pairs saved. On error the
// state is unchanged.
func (o *LBFGS) Load(r io.Reader) error {
	return o.load(r, func(d *binstate.Decoder, version uint32) func() error {
		if version < 2 {
			d.Fail(errors.New("format version 1 has no L-BFGS state"))
			return nil
		}
		if k := d.U32(); d.Err() == nil && k != 0 {
			d.Fail(fmt.Errorf("state has %d parameter groups, want 0", k))
		}
		iters, evals := d.U64(), d.U64()
		t := d.Float()
		k := d.U32()
		if d.Err() == nil && uint64(k) > uint64(o.s.History) {
			d.Fail(fmt.Errorf("state has %d pairs, more than History = %d", k, o.s.History))
		}
		dir, gPrev := make([]float64, o.n), make([]float64, o.n)
		d.Floats(dir)
		d.Floats(gPrev)
		var pairs []pair
		for i := 0; i < int(k) && d.Err() == nil; i++ {
			p := pair{s: make([]float64, o.n), y: make([]float64, o.n)}
			d.Floats(p.s)
			d.Floats(p.y)
			pairs = append(pairs, p)
		}
		return func() error {
			if iters > math.MaxInt32 || evals > math.MaxInt32 {
				return fmt.Errorf("iteration count %d or evaluation count %d is out of range", iters, evals)
			}
			if !(t >= 0) || math.IsInf(t, 1) {
				return fmt.Errorf("step length %v is not a finite number ≥ 0", t)
			}
			if iters == 0 && k != 0 {
				return fmt.Errorf("state has %d pairs before any iteration", k)
			}
			for i, v := range [][]float64{dir, gPrev} {
				if err := checkBuffer(v, signed); err != nil {
					return fmt.Errorf("%s: %w", [...]string{"direction", "previous gradient"}[i], err)
				}
			}
			hDiag := 1.0
			for i := range pairs {
				p := &pairs[i]
				for _, v := range [][]float64{p.s, p.y} {
					if err := checkBuffer(v, signed); err != nil {
						return fmt.Errorf("pair %d: %w", i, err)
					}
				}
				// ρ and H₀'s scale are recomputed as Step computed them;
				// a pair Step would not have kept is refused.
				ys := dot(p.y, p.s)
				if !(ys > 1e-10) {
					return fmt.Errorf("pair %d has yᵀs = %v, want more than 1e-10", i, ys)
				}
				p.rho = 1 / ys
				hDiag = ys / dot(p.y, p.y)
			}
			o.iters, o.evals, o.t, o.hDiag = int(iters), int(evals), t, hDiag
			copy(o.d, dir)
			copy(o.gPrev, gPrev)
			o.pairs, o.first, o.spare = pairs, 0, pair{}
			return nil
		}
	})
}

// dot, maxAbs, sumAbs and axpy are the vector operations of LBFGS, in
// plain loops whose products are not fused, so results do not depend on the
// architecture.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		s += float64(v * b[i])
	}
	return s
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

func sumAbs(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += math.Abs(x)
	}
	return s
}

// axpy sets y ← y + a·x, as torch's y.add_(x, alpha=a).
func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += float64(a * x[i])
	}
}

// move sets x = x0 + t·d, as torch's p.add_(d, alpha=t).
func move(x, x0 []float64, t float64, d []float64) {
	for i, di := range d {
		x[i] = x0[i] + float64(t*di)
	}
}
