package tune

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// Progress shows runs as they go: a progress bar per run on a terminal,
// plain log lines otherwise (a log file, a pipe, CI).
type Progress struct {
	mu  sync.Mutex
	w   io.Writer
	tty bool
}

// NewProgress returns the progress of runs written to w.
func NewProgress(w io.Writer) *Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &Progress{w: w, tty: tty}
}

// Note writes a line.
func (p *Progress) Note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, s)
}

// runProgress follows one run.
type runProgress struct {
	p     *Progress
	label string
	total int
	bar   *progressbar.ProgressBar
	next  int // the next step at which a log line is due
}

func (p *Progress) start(label string, total int) *runProgress {
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
		r.p.Note(fmt.Sprintf("%s: step %d/%d, training loss %.6g", r.label, step, r.total, loss))
		r.next = step + max(1, r.total/10)
	}
}

func (r *runProgress) finish(res *Result) {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	msg := fmt.Sprintf("%s: %d steps in %.2f s, training loss %.6g", r.label, res.Steps, res.Seconds, res.Last().TrainLoss)
	if res.Reached {
		msg += fmt.Sprintf(", target reached at step %d (%.2f s)", res.StepsToTarget, res.SecondsToTarget)
	}
	if res.Diverged != "" {
		msg += ", diverged: " + res.Diverged
	}
	r.p.Note(msg)
}
