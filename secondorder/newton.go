package secondorder

import (
	"cmp"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/symeig"
	"github.com/curvkit/curvkit/internal/vec"
)

var (
	_ optimize.Method   = (*DampedNewton)(nil)
	_ optimize.Statuser = (*DampedNewton)(nil)
	_ Stepper           = (*DampedNewton)(nil)
)

// Indefinite says what damped Newton does when M + λI is not positive
// definite.
type Indefinite int

const (
	// RaiseLambda raises λ until M + λI is positive definite: first just
	// above the bound the failure gives, then by the factor Increase
	// (Nocedal & Wright, Alg. 3.3).
	RaiseLambda Indefinite = iota
	// AbsEigen steps d = −Q(|Λ| + λI)⁻¹Qᵀg with M = QΛQᵀ and |λ_i| floored
	// at 1e-8·max|λ_i| (Nocedal & Wright §3.4; Dauphin et al. 2014),
	// materialising a matrix-free M.
	AbsEigen
	// FailIndefinite returns an error wrapping curvature.ErrNotPositiveDefinite.
	FailIndefinite
)

func (s Indefinite) String() string {
	switch s {
	case RaiseLambda:
		return "raise-lambda"
	case AbsEigen:
		return "abs-eigen"
	case FailIndefinite:
		return "fail"
	}
	return fmt.Sprintf("Indefinite(%d)", int(s))
}

// LevenbergMarquardt adapts the damping λ from ρ as Nielsen (1999): an
// accepted step multiplies λ by max(1/3, 1 − (2ρ − 1)³), a rejected one by
// ν, which doubles with each rejection in a row.
type LevenbergMarquardt struct {
	Min float64 // floor of λ; 0: 1e-10
	Eta float64 // a step is accepted only if ρ > Eta, in [0, 1/4)
}

// DampedNewton is Newton's method on the damped system
//
//	(M + λI) d = −g,
//
// with M the curvature at x and λ fixed, or adapted from ρ when Adaptive is
// set. A direction with gᵀd ≥ 0 is never taken. With a Linesearcher the
// step is x + αd, α from the line search; without one, an Adaptive method
// takes the full step when ρ > Adaptive.Eta and otherwise raises λ, and a
// fixed λ uses gonum's Backtracking, so no accepted step increases f.
// Raising λ past MaxLambda stops the run with ErrDampingLimit.
type DampedNewton struct {
	Lambda     float64             // λ ≥ 0 of the first step; 0: undamped
	Adaptive   *LevenbergMarquardt // if not nil, adapts λ after every step
	Indefinite Indefinite          // what to do when M + λI is indefinite
	Increase   float64             // RaiseLambda's factor, > 1; 0: 4
	MaxLambda  float64             // cap on λ; 0: 1e16
	Linear     Linear              // how (M + λI)d = −g is solved
	// Linesearcher, if not nil, searches along each direction.
	Linesearcher optimize.Linesearcher
	// GradStopThreshold is the gradient test under optimize.Minimize.
	GradStopThreshold float64
	Observe           func(StepRecord) // if not nil, called with every step's record

	lambda, nu float64
	ls         optimize.Linesearcher
	lin        linearSolver
	eig        symeig.EigenSym
	vecs       mat.Dense
	d, negG    []float64
	md, gh     []float64
	dMd        float64

	method
}

// Validate checks the settings.
func (dn *DampedNewton) Validate() error {
	if !(dn.Lambda >= 0) || math.IsInf(dn.Lambda, 1) {
		return badSetting("DampedNewton.Lambda", dn.Lambda, "must be non-negative and finite")
	}
	if dn.Indefinite < RaiseLambda || dn.Indefinite > FailIndefinite {
		return badSetting("DampedNewton.Indefinite", float64(dn.Indefinite), "unknown strategy")
	}
	if err := checkGradThreshold("DampedNewton.GradStopThreshold", dn.GradStopThreshold); err != nil {
		return err
	}
	if dn.Increase != 0 && !(dn.Increase > 1 && finite(dn.Increase)) {
		return badSetting("DampedNewton.Increase", dn.Increase, "must be greater than 1")
	}
	if dn.MaxLambda != 0 && !(dn.MaxLambda > 0 && finite(dn.MaxLambda)) {
		return badSetting("DampedNewton.MaxLambda", dn.MaxLambda, "must be positive and finite")
	}
	if dn.Lambda > dn.maxLambda() {
		return badSetting("DampedNewton.Lambda", dn.Lambda, fmt.Sprintf("must not exceed MaxLambda (%v)", dn.maxLambda()))
	}
	if a := dn.Adaptive; a != nil {
		if !(a.Min >= 0) || math.IsInf(a.Min, 1) {
			return badSetting("LevenbergMarquardt.Min", a.Min, "must be non-negative and finite")
		}
		if dn.minLambda() > dn.maxLambda() {
			return badSetting("LevenbergMarquardt.Min", a.Min, fmt.Sprintf("must not exceed DampedNewton.MaxLambda (%v)", dn.maxLambda()))
		}
		if !(a.Eta >= 0 && a.Eta < 0.25) {
			return badSetting("LevenbergMarquardt.Eta", a.Eta, "must be in [0, 1/4)")
		}
	}
	return dn.Linear.validate("DampedNewton.")
}

func (dn *DampedNewton) increase() float64 {
	if dn.Increase == 0 {
		return 4
	}
	return dn.Increase
}

func (dn *DampedNewton) maxLambda() float64 {
	if dn.MaxLambda == 0 {
		return 1e16
	}
	return dn.MaxLambda
}

func (dn *DampedNewton) minLambda() float64 {
	if dn.Adaptive == nil {
		return 0
	}
	if dn.Adaptive.Min == 0 {
		return 1e-10
	}
	return dn.Adaptive.Min
}

func (dn *DampedNewton) start(n int) error {
	if err := dn.Validate(); err != nil {
		return err
	}
	dn.lambda = math.Max(dn.Lambda, dn.minLambda())
	dn.nu = 2
	dn.resize(n)
	dn.ls = dn.Linesearcher
	if dn.ls == nil && dn.Adaptive == nil {
		dn.ls = &optimize.Backtracking{}
	}
	return nil
}

func (dn *DampedNewton) wantsDense() (bool, int) {
	return dn.Indefinite == AbsEigen || dn.Linear.Method == CholeskyLinear, dn.Linear.Budget
}

func (dn *DampedNewton) observer() func(StepRecord) { return dn.Observe }

func (dn *DampedNewton) resize(n int) {
	dn.d = resizeVec(dn.d, n)
	dn.negG = resizeVec(dn.negG, n)
	dn.md = resizeVec(dn.md, n)
	dn.gh = resizeVec(dn.gh, n)
}

// Direction stores in dst the solution d of (M + λI)d = −g with the
// current λ (Lambda before a run), an indefinite M handled as Indefinite
// says; StepInfo.Lambda is the λ used. A d with gᵀd ≥ 0 is ErrNotDescent.
func (dn *DampedNewton) Direction(dst []float64, m curvature.Operator, g []float64) (StepInfo, error) {
	if err := dn.Validate(); err != nil {
		return StepInfo{}, err
	}
	if isNil(m) {
		return StepInfo{}, errNilOperator
	}
	n := m.Dim()
	if len(dst) != n || len(g) != n {
		panic(fmt.Sprintf("secondorder: step length %d, gradient length %d, operator dimension %d", len(dst), len(g), n))
	}
	if err := nonFiniteVec("gradient", g); err != nil {
		return StepInfo{}, err
	}
	lambda := cmp.Or(dn.lambda, dn.Lambda)
	return dn.direction(dst, m, g, lambda)
}

func (dn *DampedNewton) direction(dst []float64, m curvature.Operator, g []float64, lambda float64) (StepInfo, error) {
	n := m.Dim()
	dn.resize(n)
	info := StepInfo{Lambda: lambda}
	if floats.Norm(g, 2) == 0 {
		clear(dst)
		dn.dMd = 0
		return info, nil
	}
	floats.ScaleTo(dn.negG, -1, g)
	if dn.Indefinite == AbsEigen {
		if err := dn.absEigen(dst, m, lambda, &info); err != nil {
			return info, err
		}
	} else if err := dn.raise(dst, m, g, lambda, &info); err != nil {
		return info, err
	}
	m.MulVecTo(dn.md, dst)
	info.Products++
	dn.dMd = floats.Dot(dst, dn.md)
	info.Decrease = -floats.Dot(g, dst) - 0.5*dn.dMd
	info.Norm = floats.Norm(dst, 2)
	if err := checkStep(dst, &info); err != nil {
		return info, err
	}
	if !(floats.Dot(g, dst) < 0) {
		return info, fmt.Errorf("%w: gᵀd = %v", ErrNotDescent, floats.Dot(g, dst))
	}
	return info, nil
}

// raise solves (M + λI)d = −g, raising λ on failure unless the strategy is
// FailIndefinite.
func (dn *DampedNewton) raise(dst []float64, m curvature.Operator, g []float64, lambda float64, info *StepInfo) error {
	for attempt := 0; ; attempt++ {
		li, err := dn.lin.solve(dst, m, lambda, dn.negG, &dn.Linear)
		info.Products += li.products
		info.Factorizations += li.factorizations
		info.Iterations += li.iterations
		info.Lambda = lambda
		if err != nil {
			return err
		}
		descent := vec.FirstNonFinite(dst) < 0 && floats.Dot(g, dst) < 0
		if !li.notPD && descent {
			return nil
		}
		info.NegativeCurvature = info.NegativeCurvature || li.notPD
		if dn.Indefinite == FailIndefinite {
			if li.notPD {
				return fmt.Errorf("secondorder: %w: M + λI with λ = %v", curvature.ErrNotPositiveDefinite, lambda)
			}
			return fmt.Errorf("%w: gᵀd = %v with λ = %v", ErrNotDescent, floats.Dot(g, dst), lambda)
		}
		// Just above the bound on −λ_min(M) the failure gave, or by the
		// factor Increase, whichever is larger.
		beta := 1e-3 * math.Max(1, math.Abs(li.hint))
		next := math.Max(dn.increase()*lambda, math.Max(li.hint, 0)+beta)
		if next > dn.maxLambda() || attempt > 200 {
			return fmt.Errorf("%w: M + λI still not positive definite at λ = %v", ErrDampingLimit, lambda)
		}
		lambda = next
	}
}

// absEigen stores d = −Q(|Λ| + λI)⁻¹Qᵀg.
func (dn *DampedNewton) absEigen(dst []float64, m curvature.Operator, lambda float64, info *StepInfo) error {
	a, products, err := asDense(m, dn.Linear.Budget)
	info.Products += products
	if err != nil {
		return err
	}
	if err := checkFiniteSym(a); err != nil {
		return err
	}
	n := a.SymmetricDim()
	if !dn.eig.Factorize(a, true) {
		return fmt.Errorf("secondorder: eigendecomposition of the curvature failed")
	}
	info.Factorizations++
	vals := dn.eig.Values(nil)
	dn.vecs.Reset()
	dn.eig.VectorsTo(&dn.vecs)
	floor := cmp.Or(1e-8*math.Max(math.Abs(vals[0]), math.Abs(vals[n-1])), 1)
	mat.NewVecDense(n, dn.gh).MulVec(dn.vecs.T(), mat.NewVecDense(n, dn.negG))
	for i, v := range vals {
		info.NegativeCurvature = info.NegativeCurvature || v < 0
		dn.gh[i] /= math.Max(math.Abs(v), floor) + lambda
	}
	mat.NewVecDense(n, dst).MulVec(&dn.vecs, mat.NewVecDense(n, dn.gh))
	return nil
}

// step takes one damped Newton step.
func (dn *DampedNewton) step(r *run) (StepRecord, error) {
	rec := StepRecord{Lambda: dn.lambda}
	m, err := r.curvatureFor(dn)
	if err != nil {
		return rec, err
	}
	info, err := dn.direction(dn.d, m, r.g, dn.lambda)
	rec.Solve = info
	r.addSolve(info)
	if err != nil {
		return rec, err
	}
	if dn.Adaptive != nil {
		dn.lambda = info.Lambda // a raised λ is kept and adapted from
	}
	rec.Lambda = info.Lambda
	gd := floats.Dot(r.g, dn.d)
	pred := func(alpha float64) float64 { return -alpha*gd - 0.5*alpha*alpha*dn.dMd }
	// Half the full step does not change x when the step is within an
	// ulp or two of x. If it then solves the Newton system to relative
	// residual 1/2, ‖Md + g‖ = λ‖d‖ ≤ ½‖g‖, as an interior trust-region
	// step does, x is stationary to rounding (a line search could only
	// shuffle x between its neighbours).
	half := r.setTrial(0.5, dn.d)
	full := r.setTrial(1, dn.d) // loc.X is x + d from here
	if !half {
		rec.StepSize, rec.StepNorm = 1, info.Norm
		if info.Lambda*info.Norm <= 0.5*floats.Norm(r.g, 2) {
			return rec, errStationary
		}
		if !full {
			return rec, ErrNoProgress
		}
	}
	if dn.ls != nil {
		alpha, valid, err := r.linesearch(dn.ls, dn.d, gd)
		rec.StepSize = alpha
		rec.StepNorm = alpha * info.Norm
		if err != nil {
			return rec, err
		}
		rec.TrialF = r.loc.F
		if valid&evalFunc == 0 {
			if err := r.evaluate(evalFunc); err != nil {
				return rec, err
			}
			valid |= evalFunc
			rec.TrialF = r.loc.F
		}
		rec.Predicted = pred(alpha)
		rec.Actual = r.f - r.loc.F
		rec.Rho = rec.Actual / rec.Predicted
		if err := r.accept(valid); err != nil {
			return rec, err
		}
		rec.Accepted = true
		if dn.Adaptive != nil {
			dn.adapt(rec.Rho, true)
		}
		rec.NextLambda = dn.lambda
		return rec, nil
	}
	// Levenberg–Marquardt trial of the full step.
	rec.StepSize, rec.StepNorm = 1, info.Norm
	rec.Predicted = pred(1)
	if !(rec.Predicted > 0) {
		return rec, ErrNoProgress
	}
	if err := r.evaluateTrial(evalFunc); err != nil {
		return rec, err
	}
	rec.TrialF = r.loc.F
	rec.Actual = r.f - r.loc.F
	rec.Rho = rec.Actual / rec.Predicted
	if !finite(r.loc.F) {
		rec.Rho = math.Inf(-1) // no decrease: rejected, λ rises
	}
	accept := rec.Rho > dn.Adaptive.Eta
	if accept {
		if err := r.accept(evalFunc); err != nil {
			return rec, err
		}
		rec.Accepted = true
	}
	dn.adapt(rec.Rho, accept)
	rec.NextLambda = dn.lambda
	if dn.lambda > dn.maxLambda() {
		return rec, fmt.Errorf("%w: λ = %v", ErrDampingLimit, dn.lambda)
	}
	return rec, nil
}

// adapt is Nielsen's update of λ.
func (dn *DampedNewton) adapt(rho float64, accepted bool) {
	if accepted {
		t := 2*rho - 1
		dn.lambda *= math.Max(1.0/3, 1-t*t*t)
		dn.nu = 2
	} else {
		dn.lambda *= dn.nu
		dn.nu *= 2
	}
	dn.lambda = math.Max(dn.lambda, dn.minLambda())
}

// Run implements optimize.Method.
func (dn *DampedNewton) Run(operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) {
	dn.status, dn.err = runMethod(dn, dn.GradStopThreshold, operation, result, tasks)
	close(operation)
}
