package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// progress shows runs as they go: a progress bar per run on a terminal,
// plain log lines otherwise (a log file, a pipe, CI).
type progress struct {
	mu  sync.Mutex
	w   io.Writer
	tty bool
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, s)
}

// runProgress follows one run.
type runProgress struct {
	p     *progress
	label string
	total int
	bar   *progressbar.ProgressBar
	next  int // the next step at which a log line is due
}

func (p *progress) start(label string, total int) *runProgress {
	r := &runProgress{p: p, label: label, total: total}
	if p.tty {
		r.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("%-14s", label)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionClearOnFinish(),
		)
	}
	return r
}

func (r *runProgress) update(step int, loss float64) {
	if r.bar != nil {
		r.bar.Describe(fmt.Sprintf("%-14s loss %.4f", r.label, loss))
		_ = r.bar.Set(step)
		return
	}
	if step >= r.next {
		r.p.note(fmt.Sprintf("%s: step %d/%d, training loss %.6g", r.label, step, r.total, loss))
		r.next = step + max(1, r.total/10)
	}
}

func (r *runProgress) finish(res *result) {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	msg := fmt.Sprintf("%s: %d steps in %.2f s, training loss %.6g", r.label, res.steps, res.seconds, res.last().TrainLoss)
	if res.reached {
		msg += fmt.Sprintf(", target reached at step %d (%.2f s)", res.stepsToTarget, res.secondsToTarget)
	}
	if res.diverged != "" {
		msg += ", diverged: " + res.diverged
	}
	r.p.note(msg)
}
