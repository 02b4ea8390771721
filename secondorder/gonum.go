package secondorder

import (
	"errors"

	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
)

// chanEval evaluates through optimize.Minimize: each evaluation is a Task
// sent on operation and answered on result.
type chanEval struct {
	operation chan<- optimize.Task
	result    <-chan optimize.Task
	task      optimize.Task
}

func (c *chanEval) send(op optimize.Operation) error {
	c.task.Op = op
	c.operation <- c.task
	t := <-c.result
	if t.Op == optimize.PostIteration {
		return errStopped
	}
	c.task = t
	return nil
}

func (c *chanEval) evaluate(_ *optimize.Location, op optimize.Operation) error { return c.send(op) }

func (c *chanEval) curvature(loc *optimize.Location) (curvature.Operator, error) {
	return curvature.NewDense(loc.Hessian), nil
}

// finish reads result until optimize.Minimize closes it, as Method.Run
// requires before operation is closed.
func (c *chanEval) finish() {
	for range c.result {
	}
}

// done declares MethodDone; the caller's Status then reports why.
func (c *chanEval) done() {
	c.task.Op = optimize.MethodDone
	c.operation <- c.task
	<-c.result // PostIteration
	c.finish()
}

// runMethod is Method.Run for a Stepper. It returns the final status and
// error for Status; the caller closes operation.
func runMethod(s Stepper, gradStop float64, operation chan<- optimize.Task, result <-chan optimize.Task, tasks []optimize.Task) (optimize.Status, error) {
	c := &chanEval{operation: operation, result: result, task: tasks[0]}
	loc := tasks[0].Location
	n := len(loc.X)
	fail := func(status optimize.Status, err error) (optimize.Status, error) {
		if errors.Is(err, errStopped) {
			c.finish()
			return optimize.NotTerminated, nil
		}
		c.done()
		return status, err
	}
	if err := s.start(n); err != nil {
		return fail(optimize.Failure, err)
	}
	st := s.stats()
	*st = Stats{}
	r := newRun(c, loc, make([]float64, n))
	// InitValues may already give some of f, ∇f and the Hessian.
	known := tasks[0].Op & evalAll
	err := r.accept(known)
	st.Counts.add(r.spent)
	if err != nil {
		return fail(optimize.Failure, err)
	}
	if gradConverged(r.g, gradStop) {
		return fail(optimize.GradientThreshold, nil)
	}
	if err := c.send(optimize.MajorIteration); err != nil {
		return fail(optimize.Failure, err)
	}
	obs := s.observer()
	for it := 1; ; it++ {
		r.spent = Counts{}
		rec, err := s.step(r)
		st.addStep(rec, r.spent)
		if errors.Is(err, errStopped) {
			return fail(optimize.Failure, err)
		}
		rec.Iteration = it
		rec.Spent = r.spent
		rec.F, rec.GradNorm = r.f, gradNorm(r.g)
		if obs != nil {
			obs(rec)
		}
		if errors.Is(err, errStationary) {
			return fail(optimize.MethodConverge, nil)
		}
		if err != nil {
			return fail(optimize.Failure, err)
		}
		if !rec.Accepted {
			continue
		}
		if err := c.send(optimize.MajorIteration); err != nil {
			return fail(optimize.Failure, err)
		}
		if gradConverged(r.g, gradStop) {
			return fail(optimize.GradientThreshold, nil)
		}
	}
}

// method is the optimize.Method bookkeeping that DampedNewton and
// TrustRegion share: the status of the last run and its statistics. Run,
// which needs the method itself, is each one's own.
type method struct {
	status optimize.Status
	err    error
	run    Stats
}

// Init implements optimize.Method.
func (m *method) Init(dim, tasks int) int {
	m.status, m.err = optimize.NotTerminated, nil
	return 1
}

// Uses implements optimize.Method: the method needs the gradient and the
// Hessian of an optimize.Problem.
func (*method) Uses(has optimize.Available) (optimize.Available, error) {
	if !has.Grad {
		return optimize.Available{}, optimize.ErrMissingGrad
	}
	if !has.Hess {
		return optimize.Available{}, optimize.ErrMissingHess
	}
	return optimize.Available{Grad: true, Hess: true}, nil
}

// Stats returns the statistics of the current or last run.
func (m *method) Stats() Stats { return m.run }

func (m *method) stats() *Stats { return &m.run }

// Status implements optimize.Statuser.
func (m *method) Status() (optimize.Status, error) { return m.status, m.err }
