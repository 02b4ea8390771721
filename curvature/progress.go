package curvature

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
