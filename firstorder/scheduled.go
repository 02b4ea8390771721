package firstorder

import (
	"errors"
	"fmt"
	"io"
)

var _ Optimizer = (*Scheduled)(nil)

// scheduledKind names the record a Scheduled optimizer saves before the
// wrapped optimizer's.
const scheduledKind = "Scheduled"

// Scheduled wraps an optimizer so that each step uses the learning rate a
// Schedule gives for the step's index, from a base rate. It is itself an
// Optimizer. The step count is the wrapped optimizer's; the base rate is the
// wrapper's own, and its saved state holds it (see the package overview).
type Scheduled struct {
	opt         Optimizer
	sched       Schedule
	base, base0 float64
}

// NewScheduled returns opt driven by sched, with opt's current learning
// rate as the base rate. It returns an error if opt or sched is nil, or if
// sched implements Validator and its settings are invalid.
func NewScheduled(opt Optimizer, sched Schedule) (*Scheduled, error) {
	if isNil(opt) {
		return nil, errors.New("firstorder: NewScheduled: nil optimizer")
	}
	if isNil(sched) {
		return nil, errors.New("firstorder: NewScheduled: nil schedule")
	}
	if v, ok := sched.(Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	lr := opt.LearningRate()
	return &Scheduled{opt: opt, sched: sched, base: lr, base0: lr}, nil
}

// Step sets the wrapped optimizer's learning rate from the schedule and
// takes its step. On error the learning rate is restored.
func (w *Scheduled) Step(x, grad []float64) error {
	// Before the rate changes, so that a panic leaves the state as it was.
	checkLen(scheduledKind, w.opt.Len(), x, grad)
	prev := w.opt.LearningRate()
	if err := w.opt.SetLearningRate(w.LearningRate()); err != nil {
		return fmt.Errorf("firstorder: schedule at step %d: %w", w.opt.Steps(), err)
	}
	if err := w.opt.Step(x, grad); err != nil {
		w.opt.SetLearningRate(prev)
		return err
	}
	return nil
}

// Reset resets the wrapped optimizer and the base rate.
func (w *Scheduled) Reset() {
	w.opt.Reset()
	w.base = w.base0
}

// Len returns the number of parameters.
func (w *Scheduled) Len() int { return w.opt.Len() }

// Steps returns the wrapped optimizer's step count.
func (w *Scheduled) Steps() int { return w.opt.Steps() }

// LearningRate returns the rate the schedule gives the next step.
func (w *Scheduled) LearningRate() float64 { return w.sched.LearningRate(w.opt.Steps(), w.base) }

// SetLearningRate sets the base rate the schedule scales.
func (w *Scheduled) SetLearningRate(lr float64) error {
	if err := checkLR(scheduledKind, lr); err != nil {
		return err
	}
	w.base = lr
	return nil
}

// Save writes a record of the base rate, then the wrapped optimizer's state.
func (w *Scheduled) Save(wr io.Writer) error {
	if err := w.record().Save(wr); err != nil {
		return err
	}
	return w.opt.Save(wr)
}

// Load reads what Save writes. On error the base rate and the wrapped
// optimizer's state are unchanged.
func (w *Scheduled) Load(r io.Reader) error {
	rec := w.record()
	if err := rec.Load(r); err != nil {
		return err
	}
	if err := w.opt.Load(r); err != nil {
		return err
	}
	w.base = rec.lr
	return nil
}

// record is the wrapper's own saved state: a state without buffers whose
// learning rate is the base rate.
func (w *Scheduled) record() *state {
	return &state{core: core{kind: scheduledKind, n: w.opt.Len(), lr: w.base}}
}
