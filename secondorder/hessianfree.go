package secondorder

import (
	"cmp"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/numerr"
	"github.com/curvkit/curvkit/internal/vec"
)

// HFBacktracking selects which saved CG iterate Hessian-free takes.
type HFBacktracking int

const (
	BacktrackMartens HFBacktracking = iota // backwards from the last while the batch objective falls (Martens 2010, §4.6)
	BacktrackBest                          // the lowest batch objective of all (the later on ties)
	BacktrackNone                          // the last
)

func (b HFBacktracking) String() string {
	switch b {
	case BacktrackMartens:
		return "martens"
	case BacktrackBest:
		return "best"
	case BacktrackNone:
		return "none"
	}
	return fmt.Sprintf("HFBacktracking(%d)", int(b))
}

// HFStop says why Hessian-free's conjugate gradients stopped.
type HFStop int

const (
	HFStopNone      HFStop = iota // CG did not run: the gradient is zero
	HFStopMaxCG                   // MaxCG iterations
	HFStopResidual                // ‖r‖ ≤ Tol·‖g‖
	HFStopProgress                // Martens' relative-progress rule
	HFStopCurvature               // dᵀ(G+λI)d ≤ 0 by rounding; the last iterate is kept
)

func (s HFStop) String() string {
	switch s {
	case HFStopNone:
		return "none"
	case HFStopMaxCG:
		return "max-cg"
	case HFStopResidual:
		return "residual"
	case HFStopProgress:
		return "progress"
	case HFStopCurvature:
		return "curvature"
	}
	return fmt.Sprintf("HFStop(%d)", int(s))
}

// HessianFreeSettings configure the Hessian-free optimizer. The zero value
// is valid.
type HessianFreeSettings struct {
	Damping                float64 // initial λ; 0: 1
	MinDamping, MaxDamping float64 // bounds of the adapted λ; 0: min(1e-6, Damping) and 1e4
	FixedDamping           bool    // keep λ constant

	MaxCG       int     // CG iterations per step; 0: 250
	ProgressTol float64 // ε of Martens' stopping rule; 0: 5e-4, NaN: no rule
	Tol         float64 // CG's relative residual, in [0, 1); 0: 1e-10
	Decay       float64 // ζ of the warm start, in [0, 1]; 0: 0.95
	ColdStart   bool    // start CG from 0

	Backtracking    HFBacktracking // which saved CG iterate is taken
	BacktrackFactor float64        // γ > 1, saving iterates ⌈γʲ⌉; 0: 1.3
	// LineSearch backtracks along the chosen step (Martens & Sutskever
	// 2012); without it the step is taken only if it lowers the objective.
	LineSearch bool

	// CurvatureFraction is the fraction of the batch (its first rows) whose
	// GGN products CG uses, in (0, 1]; 0: 1.
	CurvatureFraction float64

	// DiagonalPreconditioner preconditions CG with Martens' diagonal
	// (diag(EF) + λI)^PreconditionerExponent (0: 0.75).
	DiagonalPreconditioner bool
	PreconditionerExponent float64
	// Preconditioner, if not nil, gives the curvature P whose (P + λI)⁻¹
	// preconditions CG, with the step's λ; not with DiagonalPreconditioner.
	Preconditioner CurvatureFunc
}

func (s *HessianFreeSettings) defaults() error {
	check := settingCheck("HessianFreeSettings")
	if err := numerr.First(
		check("Damping", s.Damping, s.Damping >= 0 && !math.IsInf(s.Damping, 0), "must be finite and ≥ 0"),
		check("MinDamping", s.MinDamping, s.MinDamping >= 0 && !math.IsInf(s.MinDamping, 0), "must be finite and ≥ 0"),
		check("MaxDamping", s.MaxDamping, s.MaxDamping >= 0 && !math.IsInf(s.MaxDamping, 0), "must be finite and ≥ 0"),
		check("MaxCG", float64(s.MaxCG), s.MaxCG >= 0, "must be ≥ 0"),
		check("Tol", s.Tol, s.Tol >= 0 && s.Tol < 1, "must be in [0, 1)"),
		check("Decay", s.Decay, s.Decay >= 0 && s.Decay <= 1, "must be in [0, 1]"),
		check("Backtracking", float64(s.Backtracking), s.Backtracking >= BacktrackMartens && s.Backtracking <= BacktrackNone, "unknown backtracking"),
		check("BacktrackFactor", s.BacktrackFactor, s.BacktrackFactor == 0 || (s.BacktrackFactor > 1 && !math.IsInf(s.BacktrackFactor, 0)), "must be finite and > 1"),
		check("CurvatureFraction", s.CurvatureFraction, s.CurvatureFraction >= 0 && s.CurvatureFraction <= 1, "must be in (0, 1]"),
		check("PreconditionerExponent", s.PreconditionerExponent, s.PreconditionerExponent >= 0 && s.PreconditionerExponent <= 1, "must be in (0, 1]"),
	); err != nil {
		return err
	}
	// ProgressTol: NaN disables the rule; otherwise finite and ≥ 0.
	if !math.IsNaN(s.ProgressTol) && !(s.ProgressTol >= 0 && !math.IsInf(s.ProgressTol, 0)) {
		return badSetting("HessianFreeSettings.ProgressTol", s.ProgressTol, "must be finite and ≥ 0, or NaN to disable")
	}
	if s.DiagonalPreconditioner && s.Preconditioner != nil {
		return errors.New("secondorder: HessianFreeSettings: DiagonalPreconditioner and Preconditioner are both set")
	}
	if err := dampingRange("HessianFreeSettings", &s.Damping, &s.MinDamping, &s.MaxDamping, 1, 1e-6); err != nil {
		return err
	}
	s.MaxCG = cmp.Or(s.MaxCG, 250)
	s.ProgressTol = cmp.Or(s.ProgressTol, 5e-4)
	s.Tol = cmp.Or(s.Tol, 1e-10)
	s.Decay = cmp.Or(s.Decay, 0.95)
	s.BacktrackFactor = cmp.Or(s.BacktrackFactor, 1.3)
	s.CurvatureFraction = cmp.Or(s.CurvatureFraction, 1)
	s.PreconditionerExponent = cmp.Or(s.PreconditionerExponent, 0.75)
	return nil
}

// HessianFree is the Hessian-free optimizer of Martens (2010). Each step
// solves
//
//	(G + λI) d = −g
//
// by preconditioned conjugate gradients on products with the Gauss–Newton
// matrix G of the batch (or of its first rows), warm-started from the last
// step's solution, stopped by Martens' relative-progress rule, and
// backtracked over its saved iterates; λ is adapted from ρ. A step that does
// not lower the batch objective is not taken. G is positive semi-definite
// for a loss convex in the network's outputs; for one that is not
// (nn.GaussianNLL) conjugate gradients stop where they meet negative
// curvature (HFStopCurvature).
type HessianFree struct {
	model *curvature.Model
	set   HessianFreeSettings

	step   int
	lambda float64

	tape, sub, eval *nn.Tape
	ggn             ggnOperator
	cgw             cg
	grad, x, trial  []float64
	vals            []float64   // φ_0, φ_1, … of the current CG run
	saved           [][]float64 // saved iterates, first nSaved in use
	savedIter       []int
	nSaved          int
}

// NewHessianFree returns a Hessian-free optimizer for m.
func NewHessianFree(m *curvature.Model, s *HessianFreeSettings) (*HessianFree, error) {
	set, err := optimizerSettings("Hessian-free", m, s)
	if err != nil {
		return nil, err
	}
	P := m.Net.NumParams()
	if P == 0 {
		return nil, errors.New("secondorder: Hessian-free needs a network with parameters")
	}
	h := &HessianFree{
		model: m, set: set, lambda: set.Damping,
		tape: nn.NewTape(m.Net, m.Loss), eval: nn.NewTape(m.Net, m.Loss),
	}
	h.ggn.n = P
	for _, v := range []*[]float64{&h.grad, &h.x, &h.trial} {
		*v = make([]float64, P)
	}
	return h, nil
}

// Lambda returns the current damping λ.
func (h *HessianFree) Lambda() float64 { return h.lambda }

// Solution returns a copy of the last step's last CG iterate, the next
// step's warm start (zero after a step not taken).
func (h *HessianFree) Solution() []float64 { return append([]float64(nil), h.x...) }

// Step takes one Hessian-free step on the batch, updating θ in place. Bad
// data, a non-finite loss, gradient or curvature product, or a
// preconditioner that fails return an error with θ unchanged.
func (h *HessianFree) Step(theta []float64, b curvature.Batch) (Record, error) {
	m := h.model
	rec := newRecord(h.step + 1)
	if err := m.Validate(theta, b); err != nil {
		return rec, err
	}
	set := &h.set
	h.step++
	lambda := h.lambda
	rec.Lambda, rec.NextLambda = lambda, lambda
	rec.Alpha, rec.StepNorm = 0, 0

	t := h.tape
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	f0 := t.LossValue(b.Y)
	t.Backward(h.grad, nil, b.Y)
	rec.Loss, rec.NewLoss = f0, f0
	rec.Spent.Func++
	rec.Spent.Grad++
	if err := nonFiniteAt(f0, h.grad); err != nil {
		return rec, fmt.Errorf("secondorder: Hessian-free step %d: %w", h.step, err)
	}
	g := h.grad
	if rec.GradNorm = floats.Norm(g, 2); rec.GradNorm == 0 {
		clear(h.x)
		return rec, nil // a stationary point: nothing to solve
	}

	// GGN products on the curvature mini-batch.
	ct := t
	if rows := fractionRows(set.CurvatureFraction, b.Len()); rows < b.Len() {
		if h.sub == nil {
			h.sub = nn.NewTape(m.Net, m.Loss)
		}
		if err := prefixWeight(b, rows, "CurvatureFraction"); err != nil {
			return rec, fmt.Errorf("secondorder: Hessian-free step %d: %w", h.step, err)
		}
		h.sub.SetWeights(prefixOf(b.W, rows))
		h.sub.Forward(theta, rowsOf(b.X, rows))
		h.sub.SetTargets(rowsOf(b.Y, rows))
		ct = h.sub
	}
	rec.Spent.Hess++

	pre, preLambda, err := h.preconditioner(theta, b, lambda, &rec)
	if err != nil {
		clear(h.x)
		return rec, fmt.Errorf("secondorder: Hessian-free step %d: preconditioner: %w", h.step, err)
	}
	if set.ColdStart {
		clear(h.x)
	} else {
		floats.Scale(set.Decay, h.x)
	}
	h.ggn.t = ct
	if err := h.cg(lambda, pre, preLambda, &rec); err != nil {
		clear(h.x)
		return rec, fmt.Errorf("secondorder: Hessian-free step %d: %w", h.step, err)
	}
	if h.nSaved == 0 {
		// CG made no iteration from 0 (a breakdown at once): nothing to
		// take.
		h.updateLambda(&rec, nan)
		return rec, nil
	}

	// CG backtracking on the batch objective.
	chosen, fp := h.backtrack(theta, b, &rec)
	p := h.saved[chosen]
	rec.Chosen = h.savedIter[chosen]
	rec.TrialLoss = fp

	// The undamped model change q(p) − q(0) = gᵀp + ½pᵀGp.
	ad := h.cgw.ad
	h.ggn.MulVecTo(ad, p)
	rec.Spent.Products++
	gp := floats.Dot(g, p)
	predicted := gp + 0.5*floats.Dot(p, ad)

	alpha, fa := 1.0, fp
	accept := fp < f0
	if set.LineSearch {
		const c, shrink, trials = 1e-2, 0.8, 60
		accept = false
		for k := 0; ; k++ {
			if fa <= f0+c*alpha*gp {
				accept = true
				break
			}
			if k == trials {
				break
			}
			alpha *= shrink
			fa = h.lossAt(theta, p, alpha, b, &rec)
		}
		if !accept {
			alpha, fa = 1, fp
		}
	}
	// ρ judges the model on the chosen CG iterate, before the line search
	// (Martens & Sutskever 2012): a short line-search step would flatter a
	// model whose full step was poor.
	rec.Predicted = predicted
	rho := (fp - f0) / rec.Predicted
	if !finite(fp) {
		rho = math.Inf(-1)
	}
	rec.Rho = rho
	h.updateLambda(&rec, rho)
	if !accept {
		clear(h.x)
		return rec, nil
	}
	floats.AddScaled(theta, alpha, p)
	rec.Accepted = true
	rec.Alpha = alpha
	rec.NewLoss = fa
	rec.StepNorm = alpha * floats.Norm(p, 2)
	return rec, nil
}

// updateLambda applies Martens' Levenberg–Marquardt rule; a NaN ρ (nothing
// predicted) raises λ.
func (h *HessianFree) updateLambda(rec *Record, rho float64) {
	if h.set.FixedDamping {
		return
	}
	switch {
	case rho > 0.75:
		h.lambda *= 2.0 / 3
	case rho < 0.25 || math.IsNaN(rho):
		h.lambda *= 1.5
	}
	h.lambda = math.Min(math.Max(h.lambda, h.set.MinDamping), h.set.MaxDamping)
	rec.NextLambda = h.lambda
}

// preconditioner returns the step's CG preconditioner, or nil, and the
// damping it is applied with.
func (h *HessianFree) preconditioner(theta []float64, b curvature.Batch, lambda float64, rec *Record) (curvature.DampedSolver, float64, error) {
	set := &h.set
	switch {
	case set.DiagonalPreconditioner:
		ef, err := h.model.Diagonal(curvature.EmpiricalFisher, theta, b, nil)
		if err != nil {
			return nil, 0, err
		}
		rec.Spent.Grad++
		for i, v := range ef {
			ef[i] = math.Pow(v+lambda, set.PreconditionerExponent)
		}
		pre, err := approx.NewDiagonal(ef, curvature.Unlimited)
		if err != nil {
			return nil, 0, err
		}
		return pre, 0, nil
	case set.Preconditioner != nil:
		pre, err := set.Preconditioner(theta, b)
		if err != nil {
			return nil, 0, err
		}
		if pre == nil {
			return nil, 0, errors.New("nil preconditioner")
		}
		if pre.Dim() != len(theta) {
			return nil, 0, fmt.Errorf("dimension %d, the network has %d parameters", pre.Dim(), len(theta))
		}
		return pre, lambda, nil
	}
	return nil, 0, nil
}

// cg runs preconditioned conjugate gradients on (G + λI)x = −g from the
// warm start in h.x, leaves the last iterate in h.x and saves the iterates
// at iterations ⌈γʲ⌉ and the last.
func (h *HessianFree) cg(lambda float64, pre curvature.DampedSolver, preLambda float64, rec *Record) error {
	set := &h.set
	c := &h.cgw
	c.reset(&h.ggn, lambda, pre, preLambda)
	defer func() { rec.Spent.Products += c.products }()
	g, x, r := h.grad, h.x, c.r
	// φ(x) = ½xᵀAx + gᵀx = ½xᵀ(g − r) with r = −g − Ax.
	phi := func() float64 { return 0.5 * (floats.Dot(x, g) - floats.Dot(x, r)) }

	floats.ScaleTo(r, -1, g)
	phi0 := 0.0
	if floats.Norm(x, 2) > 0 {
		c.mul(c.ad, x)
		floats.Sub(r, c.ad)
		if phi0 = phi(); !(phi0 < 0) {
			// The warm start is no better than 0: start from 0.
			clear(x)
			floats.ScaleTo(r, -1, g)
			phi0 = 0
		}
	}
	h.vals = append(h.vals[:0], phi0)
	h.nSaved = 0
	gn := floats.Norm(g, 2)

	done, err := c.begin()
	if err != nil {
		return err
	}
	if done {
		rec.Stop = HFStopResidual
		return nil
	}
	gamma := set.BacktrackFactor
	j, next := 0, 1 // next saved iteration ⌈γʲ⌉
	lastSaved := 0
	rec.Stop = HFStopMaxCG
	for i := 1; i <= set.MaxCG; i++ {
		dAd := c.product()
		if !finite(dAd) {
			return fmt.Errorf("secondorder: %w: GGN product gave dᵀ(G+λI)d = %v", curvature.ErrNonFinite, dAd)
		}
		if dAd <= 0 {
			rec.Stop = HFStopCurvature
			break
		}
		rn := c.step(x, c.rz/dAd)
		v := phi()
		h.vals = append(h.vals, v)
		rec.CGIterations = i
		if i == next {
			h.save(i)
			lastSaved = i
			for next <= i {
				j++
				next = int(math.Ceil(math.Pow(gamma, float64(j))))
			}
		}
		if rn <= set.Tol*gn {
			rec.Stop = HFStopResidual
			break
		}
		if k := max(10, int(math.Ceil(0.1*float64(i)))); i > k && v < 0 && (v-h.vals[i-k])/v < float64(k)*set.ProgressTol {
			rec.Stop = HFStopProgress
			break
		}
		if done, err := c.next(); err != nil {
			return err
		} else if done {
			rec.Stop = HFStopResidual
			break
		}
	}
	if vec.FirstNonFinite(x) >= 0 {
		return fmt.Errorf("secondorder: %w: CG iterate", curvature.ErrNonFinite)
	}
	switch {
	case rec.CGIterations > 0 && lastSaved != rec.CGIterations:
		h.save(rec.CGIterations)
	case rec.CGIterations == 0 && floats.Norm(x, 2) > 0:
		h.save(0) // the warm start already solves the system
	}
	return nil
}

// ggnOperator is the GGN of a tape that has run forward, as the operator
// CG multiplies with.
type ggnOperator struct {
	t *nn.Tape
	n int
}

func (o *ggnOperator) Dim() int                  { return o.n }
func (o *ggnOperator) MulVecTo(dst, v []float64) { o.t.GGNVec(dst, v) }

// save appends a copy of h.x, CG's iterate at iteration i, to the saved ones.
func (h *HessianFree) save(i int) {
	if h.nSaved == len(h.saved) {
		h.saved = append(h.saved, make([]float64, len(h.x)))
		h.savedIter = append(h.savedIter, 0)
	}
	copy(h.saved[h.nSaved], h.x)
	h.savedIter[h.nSaved] = i
	h.nSaved++
}

// backtrack returns the index of the saved iterate taken and the batch
// objective there.
func (h *HessianFree) backtrack(theta []float64, b curvature.Batch, rec *Record) (int, float64) {
	last := h.nSaved - 1
	best, fbest := last, h.lossAt(theta, h.saved[last], 1, b, rec)
	switch h.set.Backtracking {
	case BacktrackMartens:
		for k := last - 1; k >= 0; k-- {
			f := h.lossAt(theta, h.saved[k], 1, b, rec)
			if !(lossLess(f, fbest)) {
				break
			}
			best, fbest = k, f
		}
	case BacktrackBest:
		for k := last - 1; k >= 0; k-- {
			if f := h.lossAt(theta, h.saved[k], 1, b, rec); lossLess(f, fbest) {
				best, fbest = k, f
			}
		}
	}
	return best, fbest
}

// lossLess orders objective values with NaN and +Inf last.
func lossLess(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	return a < b
}

// lossAt returns the batch objective at θ + αp.
func (h *HessianFree) lossAt(theta, p []float64, alpha float64, b curvature.Batch, rec *Record) float64 {
	floats.AddScaledTo(h.trial, theta, alpha, p)
	h.eval.SetWeights(b.W)
	h.eval.Forward(h.trial, b.X)
	rec.Spent.Func++
	return h.eval.LossValue(b.Y)
}
