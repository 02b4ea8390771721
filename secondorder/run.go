package secondorder

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/vec"
)

const (
	evalFunc = optimize.FuncEvaluation
	evalGrad = optimize.GradEvaluation
	evalHess = optimize.HessEvaluation
	evalAll  = evalFunc | evalGrad | evalHess
)

// Stepper is TrustRegion or DampedNewton, which Minimize runs on a
// curvature.Objective and optimize.Minimize on an optimize.Problem, taking
// the same steps.
type Stepper interface {
	optimize.Method
	// Validate checks the settings.
	Validate() error
	start(n int) error
	step(r *run) (StepRecord, error)
	observer() func(StepRecord)
	// stats returns the statistics of the current run, which the entry
	// points keep.
	stats() *Stats
}

// evaluator evaluates the objective for a run: directly (Minimize) or by
// asking optimize.Minimize over its channels.
type evaluator interface {
	// evaluate fills the fields op names at loc.X.
	evaluate(loc *optimize.Location, op optimize.Operation) error
	// curvature returns the curvature at loc.X after a HessEvaluation.
	curvature(loc *optimize.Location) (curvature.Operator, error)
}

// run is the state a method steps: the current point with its value,
// gradient and curvature, and the location trial points are evaluated in.
type run struct {
	ev    evaluator
	loc   *optimize.Location
	x, g  []float64
	f     float64
	m     curvature.Operator
	dense curvature.Operator // m materialised, for this point
	spent Counts
}

func newRun(ev evaluator, loc *optimize.Location, x []float64) *run {
	n := len(x)
	if len(loc.Gradient) != n {
		loc.Gradient = make([]float64, n)
	}
	return &run{ev: ev, loc: loc, x: x, g: make([]float64, n)}
}

// evaluate evaluates op at loc.X, counts it and rejects non-finite values.
func (r *run) evaluate(op optimize.Operation) error {
	if err := r.evaluateTrial(op); err != nil {
		return err
	}
	return r.checkFinite(op)
}

// evaluateTrial evaluates op at loc.X and counts it, leaving non-finite
// values to the caller: at a trial point, which it then rejects.
func (r *run) evaluateTrial(op optimize.Operation) error {
	if op == 0 {
		return nil
	}
	if err := r.ev.evaluate(r.loc, op); err != nil {
		return err
	}
	if op&evalFunc != 0 {
		r.spent.Func++
	}
	if op&evalGrad != 0 {
		r.spent.Grad++
	}
	if op&evalHess != 0 {
		r.spent.Hess++
	}
	return nil
}

// trialFinite reports whether the fields valid names are finite at the
// trial point.
func (r *run) trialFinite(valid optimize.Operation) bool {
	if valid&evalFunc != 0 && !finite(r.loc.F) {
		return false
	}
	return valid&evalGrad == 0 || vec.FirstNonFinite(r.loc.Gradient) < 0
}

func (r *run) checkFinite(op optimize.Operation) error {
	if op&evalFunc != 0 && !finite(r.loc.F) {
		return fmt.Errorf("secondorder: %w: objective is %v", curvature.ErrNonFinite, r.loc.F)
	}
	if op&evalGrad != 0 {
		if err := nonFiniteVec("gradient", r.loc.Gradient); err != nil {
			return err
		}
	}
	return nil
}

// accept makes loc.X the current point. valid names the fields already
// evaluated there; the rest are evaluated first, so on an error the
// current point is left as it was.
func (r *run) accept(valid optimize.Operation) error {
	if err := r.evaluate(evalAll &^ valid); err != nil {
		return err
	}
	if err := r.checkFinite(valid); err != nil {
		return err
	}
	m, err := r.ev.curvature(r.loc)
	if err != nil {
		return err
	}
	if a, ok := denseOf(m); ok {
		if err := checkFiniteSym(a); err != nil {
			return err
		}
	}
	copy(r.x, r.loc.X)
	copy(r.g, r.loc.Gradient)
	r.f = r.loc.F
	r.m = m
	r.dense = nil
	return nil
}

// curvatureFor returns the current curvature in the form solver wants:
// dense for solvers that factorise, materialised once per point.
func (r *run) curvatureFor(solver any) (curvature.Operator, error) {
	wd, ok := solver.(interface{ wantsDense() (bool, int) })
	if !ok {
		return r.m, nil
	}
	want, budget := wd.wantsDense()
	if !want {
		return r.m, nil
	}
	if _, ok := denseOf(r.m); ok {
		return r.m, nil
	}
	if r.dense == nil {
		s, err := curvature.Materialize(r.m, budget)
		if err != nil {
			return nil, err
		}
		r.spent.Products += r.m.Dim()
		if err := checkFiniteSym(s); err != nil {
			return nil, err
		}
		r.dense = curvature.NewDense(s)
	}
	return r.dense, nil
}

// setTrial stores x + αp in loc.X and reports whether it differs from x.
func (r *run) setTrial(alpha float64, p []float64) bool {
	floats.AddScaledTo(r.loc.X, r.x, alpha, p)
	return !floats.Equal(r.loc.X, r.x)
}

func (r *run) addSolve(info StepInfo) {
	r.spent.Products += info.Products
	r.spent.Factorizations += info.Factorizations
}

// linesearch runs ls along d from the current point (gonum's
// reverse-communication protocol, as optimize.LinesearchMethod drives it)
// and returns the accepted step length, left evaluated in loc, and the
// fields evaluated there. A trial point with a non-finite value starts
// the search again from half its step.
func (r *run) linesearch(ls optimize.Linesearcher, d []float64, gd float64) (alpha float64, valid optimize.Operation, err error) {
	const maxEvals = 200
	op := ls.Init(r.f, gd, 1)
	alpha = 1
	moved := true
	for k := 0; k < maxEvals; k++ {
		if moved {
			if !r.setTrial(alpha, d) {
				return alpha, 0, ErrNoProgress
			}
			valid = 0
		}
		if err := r.evaluateTrial(op &^ valid); err != nil {
			return alpha, valid, err
		}
		valid |= op
		if !r.trialFinite(valid) {
			alpha /= 2
			op = ls.Init(r.f, gd, alpha)
			moved = true
			continue
		}
		fv, dv := nan, nan
		if valid&evalFunc != 0 {
			fv = r.loc.F
		}
		if valid&evalGrad != 0 {
			dv = floats.Dot(r.loc.Gradient, d)
		}
		next, step, err := ls.Iterate(fv, dv)
		if err != nil {
			return alpha, valid, fmt.Errorf("secondorder: line search: %w", err)
		}
		if next == optimize.MajorIteration {
			return alpha, valid, nil
		}
		moved = step != alpha
		alpha, op = step, next
	}
	return alpha, valid, fmt.Errorf("secondorder: line search took more than %d evaluations", maxEvals)
}

func checkFiniteSym(a mat.Symmetric) error {
	n := a.SymmetricDim()
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if v := a.At(i, j); !finite(v) {
				return fmt.Errorf("secondorder: %w: curvature has %v at (%d, %d)", curvature.ErrNonFinite, v, i, j)
			}
		}
	}
	return nil
}

// errStationary ends a run whose model minimiser is within rounding of x:
// the point is stationary to working precision, and the run has converged.
var errStationary = errors.New("secondorder: stationary to rounding")

// errStopped unwinds a method when optimize.Minimize ends the run.
var errStopped = errors.New("secondorder: stopped by optimize.Minimize")
