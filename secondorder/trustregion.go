package secondorder

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

var (
	_ optimize.Method   = (*TrustRegion)(nil)
	_ optimize.Statuser = (*TrustRegion)(nil)
	_ Stepper           = (*TrustRegion)(nil)
)

// TrustRegion is the trust-region method of Nocedal & Wright, Alg. 4.1.
// Each step minimises the quadratic model m(p) = f + gᵀp + ½pᵀMp over
// ‖p‖ ≤ Δ with Solver, evaluates f(x + p) and forms the reduction ratio
//
//	ρ = (f(x) − f(x + p) + δ) / (m(0) − m(p) + δ),  δ = 10ε|f(x)|,
//
// where δ, the rounding error of f, keeps a step whose predicted decrease
// is below it from being judged by noise (Conn, Gould & Toint 2000,
// §17.4.2): near a solution with f far from 0, where SciPy's runs stop on
// "a bad approximation", ρ then tends to 1. A trial whose f is NaN or
// infinite has no decrease (ρ = −∞).
//
// If ρ < 1/4 the radius shrinks to Δ/4, and on by factors of 4 until it is
// below ‖p‖, so that an interior step is not proposed — and evaluated —
// again; if ρ > 3/4 and the step reached the boundary it doubles, up to
// MaxRadius. The step is accepted only if ρ > Eta, so no accepted step
// increases f by more than its rounding, 10ε|f|. A rejected trial costs
// one function evaluation and a new subproblem solve with the smaller
// radius (from what the solver kept, for GLTR); a solver that returns the
// rejected step once more is asked again with a smaller radius before
// anything is evaluated, so no trial point is evaluated twice.
//
// A step whose model minimiser is interior (StepInfo.Boundary unset) and
// cannot change x, or predicts no decrease, ends the run as converged:
// x is stationary to working precision (status MethodConverge; see
// Stopping in the package documentation). A boundary step that cannot
// change x — the radius has collapsed — is ErrNoProgress.
//
// The defaults are SciPy's (initial radius 1, η = 0.15) but the maximum
// radius, 10¹⁰ instead of 1000, which would make a minimiser 10⁶ away
// (BrownBadlyScaled's) take a thousand steps; examples/trustbench compares
// the counts with scipy.optimize.minimize's trust-exact, trust-ncg, dogleg
// and trust-krylov on the Moré–Garbow–Hillstrom set.
//
// TrustRegion is an optimize.Method (it needs Grad and Hess of the
// Problem), so optimize.Minimize runs it on any gonum Problem, and a
// Stepper, so Minimize runs it on any curvature.Objective with any
// curvature operator. It keeps its radius and storage between steps, so a
// value serves one run at a time; Radius reports the current radius and
// Stats the steps and work of the run, rejected trials included.
type TrustRegion struct {
	// Solver solves the subproblems. If it is nil, Exact is used when the
	// curvature is dense and Steihaug otherwise.
	Solver SubproblemSolver
	// InitialRadius is Δ₀. If it is 0, it defaults to 1; it must be
	// positive and finite.
	InitialRadius float64
	// MaxRadius caps Δ. If it is 0, it defaults to 10¹⁰; it must be finite
	// and at least InitialRadius.
	MaxRadius float64
	// Eta is the acceptance threshold η ∈ [0, 1/4): a step is accepted
	// only if ρ > η. If it is 0, it defaults to 0.15; to accept any
	// decrease, set a tiny positive value.
	Eta float64
	// GradStopThreshold stops an optimize.Minimize run at ‖∇f‖∞ below it
	// (see Stopping in the package documentation); Minimize uses
	// Settings.GradientThreshold instead.
	GradStopThreshold float64
	// Observe, if not nil, is called with the record of every step.
	Observe func(StepRecord)

	radius, maxRadius, eta float64
	p                      []float64
	last                   []float64 // the last trial step
	rejected               bool      // whether it was rejected
	exact                  Exact
	steihaug               Steihaug

	status optimize.Status
	err    error
	run    Stats
}

// Validate checks the settings and those of the Solver.
func (tr *TrustRegion) Validate() error {
	if tr.InitialRadius != 0 && (!(tr.InitialRadius > 0) || math.IsInf(tr.InitialRadius, 1)) {
		return badSetting("TrustRegion.InitialRadius", tr.InitialRadius, "must be positive and finite")
	}
	if tr.MaxRadius != 0 && (!(tr.MaxRadius > 0) || math.IsInf(tr.MaxRadius, 1)) {
		return badSetting("TrustRegion.MaxRadius", tr.MaxRadius, "must be positive and finite")
	}
	if r0, rmax := tr.defaults(); r0 > rmax {
		return badSetting("TrustRegion.MaxRadius", rmax, "must be at least the initial radius")
	}
	if !(tr.Eta >= 0 && tr.Eta < 0.25) {
		return badSetting("TrustRegion.Eta", tr.Eta, "must be in [0, 1/4)")
	}
	if err := checkGradThreshold("TrustRegion.GradStopThreshold", tr.GradStopThreshold); err != nil {
		return err
	}
	if v, ok := tr.Solver.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

func (tr *TrustRegion) defaults() (r0, rmax float64) {
	r0, rmax = tr.InitialRadius, tr.MaxRadius
	if r0 == 0 {
		r0 = 1
	}
	if rmax == 0 {
		rmax = 1e10
	}
	return r0, rmax
}

// Radius returns the current trust radius.
func (tr *TrustRegion) Radius() float64 { return tr.radius }

func (tr *TrustRegion) start(n int) error {
	if err := tr.Validate(); err != nil {
		return err
	}
	tr.radius, tr.maxRadius = tr.defaults()
	tr.eta = tr.Eta
	if tr.eta == 0 {
		tr.eta = 0.15
	}
	tr.p = resizeVec(tr.p, n)
	tr.rejected = false
	return nil
}

func (tr *TrustRegion) observer() func(StepRecord) { return tr.Observe }

func (tr *TrustRegion) solver(r *run) SubproblemSolver {
	if tr.Solver != nil {
		return tr.Solver
	}
	if _, ok := denseOf(r.m); ok {
		return &tr.exact
	}
	return &tr.steihaug
}

// step makes one trial of Alg. 4.1.
func (tr *TrustRegion) step(r *run) (StepRecord, error) {
	solver := tr.solver(r)
	m, err := r.curvatureFor(solver)
	if err != nil {
		return StepRecord{Radius: tr.radius, StepSize: 1}, err
	}
	var info StepInfo
	for {
		if ws, ok := solver.(warmSolver); ok && tr.rejected {
			info, err = ws.solveAgain(tr.p, m, r.g, tr.radius)
		} else {
			info, err = solver.Solve(tr.p, m, r.g, tr.radius)
		}
		r.addSolve(info)
		if err != nil || !tr.rejected || !floats.Equal(tr.p, tr.last) {
			break
		}
		// The step of the trial just rejected, again (an interior step
		// longer than the shrunk radius allows, or a solver's tolerance):
		// it is not evaluated twice.
		tr.radius = tr.shrink(info.Norm)
	}
	rec := StepRecord{Radius: tr.radius, StepSize: 1, Solve: info}
	if err != nil {
		return rec, err
	}
	rec.Lambda, rec.NextLambda = info.Lambda, info.Lambda
	rec.StepNorm = floats.Norm(tr.p, 2)
	rec.Predicted = info.Decrease
	if !(info.Decrease > 0) || !r.setTrial(1, tr.p) {
		if !info.Boundary {
			// The model's minimiser is within rounding of x.
			return rec, errStationary
		}
		return rec, ErrNoProgress
	}
	if err := r.evaluateTrial(evalFunc); err != nil {
		return rec, err
	}
	rec.TrialF = r.loc.F
	rec.Actual = r.f - r.loc.F
	// Both decreases are allowed the rounding error of f, so that a step
	// whose predicted decrease is below it is judged by a ratio near 1,
	// not by noise (Conn, Gould & Toint 2000, §17.4.2).
	noise := 10 * 0x1p-52 * math.Abs(r.f)
	rho := (rec.Actual + noise) / (rec.Predicted + noise)
	if !finite(r.loc.F) {
		rho = math.Inf(-1) // no decrease: rejected, the radius shrinks
	}
	rec.Rho = rho
	switch {
	case rho < 0.25:
		tr.radius = tr.shrink(info.Norm)
	case rho > 0.75 && info.Boundary:
		tr.radius = math.Min(2*tr.radius, tr.maxRadius)
	}
	rec.NextRadius = tr.radius
	tr.rejected = !(rho > tr.eta)
	if tr.rejected {
		tr.last = append(tr.last[:0], tr.p...)
		return rec, nil
	}
	if err := r.accept(evalFunc); err != nil {
		return rec, err
	}
	rec.Accepted = true
	return rec, nil
}

// shrink returns the radius after a poor step of length norm: Δ/4, and
// below norm, by further factors of 4, so that an interior step cannot be
// proposed again.
func (tr *TrustRegion) shrink(norm float64) float64 {
	d := tr.radius / 4
	for d >= norm && d > 0 {
		d /= 4
	}
	return d
}

// Init implements optimize.Method.
func (tr *TrustRegion) Init(dim, tasks int) int {
	tr.status, tr.err = optimize.NotTerminated, nil
	return 1
}

// Run implements optimize.Method.
func (tr *TrustRegion) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	tr.status, tr.err = runMethod(tr, tr.GradStopThreshold, operation, result, tasks)
	close(operation)
}

// Uses implements optimize.Method: TrustRegion needs Grad and Hess.
func (*TrustRegion) Uses(has optimize.Available) (optimize.Available, error) {
	return usesHessian(has)
}

// Stats returns the statistics of the current or last run, under Minimize
// or optimize.Minimize: every step, rejected trials included, and what
// the run cost. (optimize.Minimize's own Stats count only the accepted
// steps as major iterations.)
func (tr *TrustRegion) Stats() Stats { return tr.run }

func (tr *TrustRegion) stats() *Stats { return &tr.run }

// Status implements optimize.Statuser.
func (tr *TrustRegion) Status() (optimize.Status, error) { return tr.status, tr.err }
