package secondorder

import (
	"cmp"
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
// Each step minimises m(p) = f + gᵀp + ½pᵀMp over ‖p‖ ≤ Δ with Solver and
// forms the reduction ratio
//
//	ρ = (f(x) − f(x + p) + δ) / (m(0) − m(p) + δ),  δ = 10ε|f(x)|,
//
// δ allowing for the rounding of f (Conn, Gould & Toint 2000, §17.4.2).
// If ρ < 1/4 the radius shrinks to Δ/4, and by further factors of 4 until
// it is below ‖p‖; if ρ > 3/4 and p is on the boundary it doubles, up to
// MaxRadius. The step is accepted only if
// ρ > Eta. No trial point is evaluated twice. A boundary step that cannot
// change x is ErrNoProgress.
type TrustRegion struct {
	// Solver solves the subproblems; nil: Exact for a dense curvature,
	// Steihaug otherwise.
	Solver        SubproblemSolver
	InitialRadius float64 // Δ₀; 0: 1
	MaxRadius     float64 // cap on Δ, at least Δ₀; 0: 10¹⁰
	Eta           float64 // acceptance threshold in [0, 1/4); 0: 0.15
	// GradStopThreshold is the gradient test under optimize.Minimize.
	GradStopThreshold float64
	Observe           func(StepRecord) // if not nil, called with every step's record

	radius, maxRadius, eta float64
	p                      []float64
	last                   []float64 // the last trial step
	rejected               bool      // whether it was rejected
	exact                  Exact
	steihaug               Steihaug

	method
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
	return cmp.Or(tr.InitialRadius, 1), cmp.Or(tr.MaxRadius, 1e10)
}

func (tr *TrustRegion) start(n int) error {
	if err := tr.Validate(); err != nil {
		return err
	}
	tr.radius, tr.maxRadius = tr.defaults()
	tr.eta = tr.Eta
	tr.eta = cmp.Or(tr.eta, 0.15)
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

// Run implements optimize.Method.
func (tr *TrustRegion) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	tr.status, tr.err = runMethod(tr, tr.GradStopThreshold, operation, result, tasks)
	close(operation)
}
