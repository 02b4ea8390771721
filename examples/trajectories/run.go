package main

import (
	"math"
)

// path is one optimizer's trajectory on one problem.
type path struct {
	method string
	lr     float64
	x, y   []float64 // start point, then the point after each step
	f      []float64
}

// descend runs m on p with learning rate lr for at most steps steps. It
// stops early, with ok false, if a step fails or the iterate leaves a box
// far outside the window (divergence).
func descend(p problem, m method, lr float64, steps int) (path, bool) {
	pa := path{method: m.name, lr: lr}
	opt, err := m.build(lr)
	if err != nil {
		return pa, false
	}
	x, g := []float64{p.start[0], p.start[1]}, make([]float64, 2)
	record := func() {
		pa.x = append(pa.x, x[0])
		pa.y = append(pa.y, x[1])
		pa.f = append(pa.f, p.f(x))
	}
	record()
	const far = 1e3
	for range steps {
		p.grad(g, x)
		if err := opt.Step(x, g); err != nil {
			return pa, false
		}
		record()
		if !(math.Abs(x[0]) < far && math.Abs(x[1]) < far) {
			return pa, false
		}
	}
	return pa, true
}

// best returns m's path on p: with p's fixed rate, or with the smallest rate
// from lrGrid that reaches p's target, or else the rate that ends lowest.
func best(p problem, m method, steps int) path {
	if p.fixedLR != 0 {
		pa, _ := descend(p, m, p.fixedLR, steps)
		return pa
	}
	var lowest path
	lowestF := math.Inf(1)
	for _, lr := range lrGrid {
		pa, ok := descend(p, m, lr, steps)
		if !ok {
			continue
		}
		f := pa.f[len(pa.f)-1]
		if f < p.target {
			return pa
		}
		if f < lowestF {
			lowest, lowestF = pa, f
		}
	}
	if lowest.x == nil { // every rate diverged: show the smallest
		lowest, _ = descend(p, m, lrGrid[0], steps)
	}
	return lowest
}
