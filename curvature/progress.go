package curvature

import "sync"

// Progress reports how far a long computation has come: done of total
// units (samples, Lanczos steps, measurements; each caller says which),
// called as units complete and last with done == total, also when the
// computation finishes early. Calls come from one goroutine at a time and
// should return quickly. A nil Progress means no reports.
type Progress func(done, total int)

// Report calls p(done, total) unless p is nil.
func (p Progress) Report(done, total int) {
	if p != nil {
		p(done, total)
	}
}

// tally counts the parts of a dense build as its workers complete them and
// reports the count to a Progress, one call at a time: when the count
// reaches a new thousandth of the total (so that a build of many small
// parts does not call a slow Progress as often) and when it reaches the
// total. A nil *tally counts nothing.
type tally struct {
	mu          sync.Mutex
	p           Progress
	done, total int
	shown       int // thousandths of the total last reported
}

// newTally returns a tally of total parts reporting to p, or nil when p is
// nil.
func newTally(p Progress, total int) *tally {
	if p == nil {
		return nil
	}
	return &tally{p: p, total: total, shown: -1}
}

// add counts k more parts done.
func (t *tally) add(k int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done += k
	if t.done >= t.total {
		t.done = t.total
		t.p(t.done, t.total)
		return
	}
	if th := int(int64(t.done) * 1000 / int64(t.total)); th > t.shown {
		t.shown = th
		t.p(t.done, t.total)
	}
}

// grow adds k parts to the total, when a build starts again on another
// route: done carries on from where it was.
func (t *tally) grow(k int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.total += k
	t.shown = int(int64(t.done) * 1000 / int64(t.total))
	t.mu.Unlock()
}
