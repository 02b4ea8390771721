// Package progress draws the progress bars of the example commands: a bar
// on a terminal, nothing on a pipe, a file or in a test, so that outputs
// that are read by programs stay clean.
package progress

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
)

// Terminal reports whether w is a terminal.
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Bar follows one computation. Its Report method is a curvature.Progress.
type Bar struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
	total int
}

// New returns a bar labelled label that draws on w when w is a terminal.
func New(w io.Writer, label string) *Bar {
	if !Terminal(w) {
		return &Bar{}
	}
	return &Bar{w: w, label: label}
}

// Report shows done of total; a new total starts the bar again.
func (b *Bar) Report(done, total int) {
	if b.w == nil || total <= 0 {
		return
	}
	if b.bar == nil || total != b.total {
		b.Finish()
		b.total = total
		b.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(b.label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = b.bar.Set(done)
}

// Finish clears the bar from the terminal.
func (b *Bar) Finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
		b.bar = nil
	}
}
