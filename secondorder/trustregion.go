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
//	ρ = (f(x) − f(x + p)) / (m(0) − m(p)).
//
// If ρ < 1/4 the radius shrinks to Δ/4; if ρ > 3/4 and the step reached
// the boundary it doubles, up to MaxRadius. The step is accepted only if
// ρ > Eta, so no accepted step increases f. A rejected trial costs one
// function evaluation and a new subproblem solve with the smaller radius.
//
// The defaults are SciPy's (initial radius 1, maximum 1000, η = 0.15), so
// counts compare with scipy.optimize.minimize's trust-exact and trust-ncg.
//
// TrustRegion is an optimize.Method (it needs Grad and Hess of the
// Problem), so optimize.Minimize runs it on any gonum Problem, and a
// Stepper, so Minimize runs it on any curvature.Objective with any
// curvature operator. It keeps its radius and storage between steps, so a
// value serves one run at a time; Radius reports the current radius.
type TrustRegion struct {
	// Solver solves the subproblems. If it is nil, Exact is used when the
	// curvature is dense and Steihaug otherwise.
	Solver SubproblemSolver
	// InitialRadius is Δ₀. If it is 0, it defaults to 1; it must be
	// positive and finite.
	InitialRadius float64
	// MaxRadius caps Δ. If it is 0, it defaults to 1000; it must be finite
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
	exact                  Exact
	steihaug               Steihaug

	status optimize.Status
	err    error
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
		rmax = 1000
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
	rec := StepRecord{Radius: tr.radius, StepSize: 1}
	solver := tr.solver(r)
	m, err := r.curvatureFor(solver)
	if err != nil {
		return rec, err
	}
	info, err := solver.Solve(tr.p, m, r.g, tr.radius)
	rec.Solve = info
	r.addSolve(info)
	if err != nil {
		return rec, err
	}
	rec.Lambda, rec.NextLambda = info.Lambda, info.Lambda
	rec.StepNorm = floats.Norm(tr.p, 2)
	rec.Predicted = info.Decrease
	if !(info.Decrease > 0) || !r.setTrial(1, tr.p) {
		return rec, ErrNoProgress
	}
	if err := r.evaluate(evalFunc); err != nil {
		return rec, err
	}
	rec.TrialF = r.loc.F
	rec.Actual = r.f - r.loc.F
	rho := rec.Actual / rec.Predicted
	rec.Rho = rho
	switch {
	case rho < 0.25:
		tr.radius *= 0.25
	case rho > 0.75 && info.Boundary:
		tr.radius = math.Min(2*tr.radius, tr.maxRadius)
	}
	rec.NextRadius = tr.radius
	if rho > tr.eta {
		if err := r.accept(evalFunc); err != nil {
			return rec, err
		}
		rec.Accepted = true
	}
	return rec, nil
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

// Status implements optimize.Statuser.
func (tr *TrustRegion) Status() (optimize.Status, error) { return tr.status, tr.err }
