package secondorder

import (
	"cmp"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
)

var nan = math.NaN()

// defaultGradThreshold is the gradient threshold of both entry points when
// theirs is 0.
const defaultGradThreshold = 1e-8

// gradConverged reports whether ‖g‖∞ < thresh, with 0 meaning
// defaultGradThreshold and NaN disabling the test: the one stopping rule
// of Minimize and of the methods under optimize.Minimize.
func gradConverged(g []float64, thresh float64) bool {
	if math.IsNaN(thresh) {
		return false
	}
	thresh = cmp.Or(thresh, defaultGradThreshold)
	return gradNorm(g) < thresh
}

// gradNorm is ‖g‖∞, the norm of every gradient test and record here.
func gradNorm(g []float64) float64 { return floats.Norm(g, math.Inf(1)) }

// checkGradThreshold validates a gradient threshold: NaN (disabled), 0
// (the default) or positive.
func checkGradThreshold(name string, v float64) error {
	if v < 0 || math.IsInf(v, 1) {
		return badSetting(name, v, "must be positive and finite, 0 for the default or NaN to disable the test")
	}
	return nil
}

// Settings configures Minimize. The zero value stops at ‖∇f‖∞ < 1e-8 or
// after 1000 steps.
type Settings struct {
	GradientThreshold float64 // ‖∇f‖∞ that stops the run; 0: 1e-8, NaN: no test
	MaxIterations     int     // steps, rejected trials included; 0: 1000
	FuncEvaluations   int     // if positive, objective evaluations that stop the run
	// Curvature gives the curvature at x. If it is nil, it is the Hessian:
	// dense for a curvature.Hessianer, else curvature.HessianOperator's
	// products (differences of the gradient unless obj is a HessVecer).
	Curvature func(x []float64) (curvature.Operator, error)
}

func (s *Settings) validate() error {
	if err := checkGradThreshold("Settings.GradientThreshold", s.GradientThreshold); err != nil {
		return err
	}
	if s.MaxIterations < 0 {
		return badSetting("Settings.MaxIterations", float64(s.MaxIterations), "must not be negative")
	}
	return nil
}

// Result is the outcome of Minimize.
type Result struct {
	F        float64   // f at the final point, which Minimize leaves in x
	Gradient []float64 // ∇f there
	GradNorm float64   // ‖Gradient‖∞
	// Status is GradientThreshold or MethodConverge on convergence,
	// IterationLimit, FunctionEvaluationLimit, or Failure with an error.
	Status optimize.Status
	Stats
	Steps []StepRecord // one per step
}

// Minimize minimises obj from x with method, updating x in place. On an
// error the run stops with x at the last accepted point, which Result
// describes.
func Minimize(x []float64, obj curvature.Objective, method Stepper, settings *Settings) (*Result, error) {
	if isNil(method) {
		return nil, errors.New("secondorder: Minimize needs a method (DampedNewton, TrustRegion), got nil")
	}
	if isNil(obj) {
		return nil, errors.New("secondorder: Minimize needs an objective, got nil")
	}
	n := obj.Dim()
	if len(x) != n {
		panic(fmt.Sprintf("secondorder: x has length %d, objective dimension %d", len(x), n))
	}
	if n == 0 {
		return nil, errors.New("secondorder: empty parameter vector")
	}
	if err := nonFiniteVec("starting point", x); err != nil {
		return nil, err
	}
	if settings == nil {
		settings = &Settings{}
	}
	if err := settings.validate(); err != nil {
		return nil, err
	}
	if err := method.start(n); err != nil {
		return nil, err
	}
	maxIter := cmp.Or(settings.MaxIterations, 1000)
	ev := &directEval{obj: obj, curv: settings.Curvature}
	loc := &optimize.Location{X: append([]float64(nil), x...), Gradient: make([]float64, n)}
	r := newRun(ev, loc, x)
	res := &Result{}
	st := method.stats()
	*st = Stats{}
	finish := func(status optimize.Status, err error) (*Result, error) {
		res.Stats = *st
		res.Status = status
		res.F = r.f
		res.Gradient = append([]float64(nil), r.g...)
		res.GradNorm = gradNorm(r.g)
		return res, err
	}
	err := r.accept(0)
	st.Counts.add(r.spent)
	if err != nil {
		return finish(optimize.Failure, err)
	}
	obs := method.observer()
	for {
		switch {
		case gradConverged(r.g, settings.GradientThreshold):
			return finish(optimize.GradientThreshold, nil)
		case st.Iterations >= maxIter:
			return finish(optimize.IterationLimit, nil)
		case settings.FuncEvaluations > 0 && st.Func >= settings.FuncEvaluations:
			return finish(optimize.FunctionEvaluationLimit, nil)
		}
		r.spent = Counts{}
		rec, err := method.step(r)
		st.addStep(rec, r.spent)
		rec.Iteration = st.Iterations
		rec.Spent = r.spent
		rec.F, rec.GradNorm = r.f, gradNorm(r.g)
		res.Steps = append(res.Steps, rec)
		if obs != nil {
			obs(rec)
		}
		if errors.Is(err, errStationary) {
			return finish(optimize.MethodConverge, nil)
		}
		if err != nil {
			return finish(optimize.Failure, err)
		}
	}
}

// directEval evaluates a curvature.Objective directly.
type directEval struct {
	obj  curvature.Objective
	curv func(x []float64) (curvature.Operator, error)
	h    *mat.SymDense
	m    curvature.Operator
}

func (d *directEval) evaluate(loc *optimize.Location, op optimize.Operation) error {
	if op&evalFunc != 0 {
		loc.F = d.obj.Func(loc.X)
	}
	if op&evalGrad != 0 {
		d.obj.Grad(loc.Gradient, loc.X)
	}
	if op&evalHess != 0 {
		m, err := d.curvatureAt(loc.X)
		if err != nil {
			return err
		}
		d.m = m
	}
	return nil
}

func (d *directEval) curvatureAt(x []float64) (curvature.Operator, error) {
	if d.curv != nil {
		m, err := d.curv(x)
		if err != nil {
			return nil, fmt.Errorf("secondorder: curvature: %w", err)
		}
		if m.Dim() != len(x) {
			panic("secondorder: curvature dimension mismatch")
		}
		return m, nil
	}
	if h, ok := d.obj.(curvature.Hessianer); ok {
		if d.h == nil {
			d.h = mat.NewSymDense(len(x), nil)
		}
		h.Hess(d.h, x)
		return curvature.NewDense(d.h), nil
	}
	return curvature.HessianOperator(d.obj, x), nil
}

func (d *directEval) curvature(*optimize.Location) (curvature.Operator, error) { return d.m, nil }
