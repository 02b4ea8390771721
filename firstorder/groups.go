package firstorder

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Span is the range x[Start:End] of the parameters.
type Span struct{ Start, End int }

// Group is a named set of parameter ranges that share a learning rate and a
// weight decay, as one entry of torch's param_groups: each span plays the
// part of one parameter tensor of the group.
type Group struct {
	// Name identifies the group in error messages and saved state, such as
	// "biases" or "layer 2". At most 255 bytes.
	Name string

	// Spans are the ranges of x the group holds: non-empty, within the
	// parameters, and disjoint from each other and from every other
	// group's.
	Spans []Span

	// LRScale ≥ 0 multiplies the optimizer's learning rate in this group,
	// so that SetLearningRate and schedules move every group's rate in
	// proportion, as torch's schedulers do. If LRScale is 0 it is defaulted
	// to 1: a rate of 0 would not move the group (leave its spans out of
	// every group to freeze them).
	LRScale float64

	// WeightDecayScale ≥ 0 multiplies the optimizer's weight decay in this
	// group. 0 means no weight decay, the usual choice for biases and
	// normalisation parameters, so a group that keeps the optimizer's decay
	// says 1. Optimizers without weight decay (Rprop) ignore it.
	WeightDecayScale float64
}

// run is a maximal range of parameters within one group, the unit the
// update loops work on: x[lo:hi], with its group's scales.
type run struct {
	lo, hi           int
	lrScale, wdScale float64
}

// of returns v's part in the run.
func (r run) of(v []float64) []float64 { return v[r.lo:r.hi] }

// whole returns the single run of an optimizer without groups.
func whole(n int) []run { return []run{{lo: 0, hi: n, lrScale: 1, wdScale: 1}} }

// SetGroups divides the parameters into groups with learning rates and
// weight decays of their own, as torch's param_groups. Every optimizer of the
// package has it. The update of a group is exactly that of a separate
// optimizer, built with the same settings but the group's learning rate and
// weight decay, stepping the group's parameters alone. Parameters in no group
// are not updated; the gradient is checked for NaN and infinities in full
// all the same.
//
// With no groups (nil) the optimizer is back to one group of all the
// parameters with the settings' learning rate and weight decay. Groups stay
// through Reset; Save writes them and Load installs the saved ones. SetGroups
// returns an error, and changes nothing, if a group has no spans, a span is
// empty, outside [0, Len()) or overlaps another, a scale is negative, NaN or
// infinite, or a name is longer than 255 bytes. The moment buffers are
// untouched, so groups are best set before the first step.
func (s *state) SetGroups(groups []Group) error {
	g, runs, err := checkGroups(s.n, groups)
	if err != nil {
		return fmt.Errorf("firstorder: %s: %w", s.kind, err)
	}
	s.groups, s.runs = g, runs
	return nil
}

// Groups returns a copy of the groups set by SetGroups or Load, with zero
// learning-rate scales defaulted to 1, or nil if the optimizer has a single
// group of all its parameters.
func (s *state) Groups() []Group { return cloneGroups(s.groups) }

// checkGroups validates groups for n parameters and returns a copy with
// the defaults applied and the sorted runs the update loops walk.
func checkGroups(n int, groups []Group) ([]Group, []run, error) {
	if len(groups) == 0 {
		return nil, whole(n), nil
	}
	type span struct {
		Span
		group int
	}
	var spans []span
	out := cloneGroups(groups)
	for i := range out {
		g := &out[i]
		if len(g.Name) > 255 {
			return nil, nil, fmt.Errorf("group %d: name of %d bytes, want at most 255", i, len(g.Name))
		}
		if len(g.Spans) == 0 {
			return nil, nil, fmt.Errorf("group %d (%q) has no spans", i, g.Name)
		}
		g.LRScale = withDefault(g.LRScale, 1)
		for _, f := range []struct {
			name string
			v    float64
		}{{"LRScale", g.LRScale}, {"WeightDecayScale", g.WeightDecayScale}} {
			if !(f.v >= 0) || math.IsInf(f.v, 1) {
				return nil, nil, fmt.Errorf("group %d (%q): %s = %v is not a finite number ≥ 0", i, g.Name, f.name, f.v)
			}
		}
		for _, sp := range g.Spans {
			if !(0 <= sp.Start && sp.Start < sp.End && sp.End <= n) {
				return nil, nil, fmt.Errorf("group %d (%q): span [%d, %d) is empty or outside [0, %d)", i, g.Name, sp.Start, sp.End, n)
			}
			spans = append(spans, span{sp, i})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.Start, b.Start) })
	var runs []run
	for k, sp := range spans {
		if k > 0 && sp.Start < spans[k-1].End {
			p := spans[k-1]
			return nil, nil, fmt.Errorf("span [%d, %d) of group %d (%q) overlaps [%d, %d) of group %d (%q)",
				sp.Start, sp.End, sp.group, out[sp.group].Name, p.Start, p.End, p.group, out[p.group].Name)
		}
		if k > 0 && sp.Start == spans[k-1].End && sp.group == spans[k-1].group {
			runs[len(runs)-1].hi = sp.End // contiguous spans of one group: one longer loop
			continue
		}
		g := out[sp.group]
		runs = append(runs, run{lo: sp.Start, hi: sp.End, lrScale: g.LRScale, wdScale: g.WeightDecayScale})
	}
	return out, runs, nil
}

func cloneGroups(groups []Group) []Group {
	if groups == nil {
		return nil
	}
	out := slices.Clone(groups)
	for i := range out {
		out[i].Spans = slices.Clone(out[i].Spans)
	}
	return out
}

// NoDecay returns the groups of torch users' most common split for n
// parameters: "no decay", the spans given, with WeightDecayScale 0, and
// "decay", every other parameter, with the optimizer's weight decay. Both
// keep the optimizer's learning rate; a group that would have no spans is
// left out. Pass the result to SetGroups, which reports spans that are
// empty, overlap or lie outside [0, n).
func NoDecay(n int, spans ...Span) []Group {
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
	var rest []Span
	at := 0
	for _, sp := range sorted {
		if sp.Start > at {
			rest = append(rest, Span{at, min(sp.Start, n)})
		}
		at = max(at, sp.End)
	}
	if at < n {
		rest = append(rest, Span{at, n})
	}
	decay := Group{Name: "decay", Spans: rest, LRScale: 1, WeightDecayScale: 1}
	noDecay := Group{Name: "no decay", Spans: slices.Clone(spans), LRScale: 1}
	switch {
	case len(spans) == 0:
		return []Group{decay}
	case len(rest) == 0:
		return []Group{noDecay}
	}
	return []Group{decay, noDecay}
}

// Biases returns the spans of the biases of a layer whose parameters
// x[lo:hi] are laid out as curvkit's layers are: the row-major matrix
// [W | b] of out rows of fanIn weights and one bias each, so that each bias
// ends its row. The result is what NoDecay takes for a network's biases. It
// panics if hi − lo is not a positive multiple of fanIn + 1.
func Biases(lo, hi, fanIn int) []Span {
	row := fanIn + 1
	if fanIn < 0 || hi <= lo || (hi-lo)%row != 0 {
		panic(fmt.Sprintf("firstorder: Biases: x[%d:%d] is not rows of %d weights and a bias", lo, hi, fanIn))
	}
	spans := make([]Span, 0, (hi-lo)/row)
	for end := lo + row; end <= hi; end += row {
		spans = append(spans, Span{end - 1, end})
	}
	return spans
}
