package firstorder

import (
	"math"
	"math/rand/v2"
	"testing"
)

// quadratic is f(x) = ½ Σ aᵢ(xᵢ − cᵢ)², convex with minimum 0 at c.
type quadratic struct{ a, c []float64 }

func newQuadratic(rnd *rand.Rand, n int) quadratic {
	q := quadratic{a: make([]float64, n), c: make([]float64, n)}
	for i := range n {
		q.a[i] = 1 + 9*rnd.Float64()
		q.c[i] = rnd.NormFloat64()
	}
	return q
}

func (q quadratic) f(x []float64) float64 {
	var s float64
	for i, xi := range x {
		d := xi - q.c[i]
		s += q.a[i] * d * d
	}
	return s / 2
}

func (q quadratic) grad(dst, x []float64) {
	for i, xi := range x {
		dst[i] = q.a[i] * (xi - q.c[i])
	}
}

// TestQuadraticDecrease checks that every optimizer and variant brings a
// convex quadratic from its start to below 1% of its initial value (ascends
// its negation, with Maximize).
func TestQuadraticDecrease(t *testing.T) {
	const n, steps = 13, 400
	for _, c := range configs() {
		t.Run(c.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(2, 2))
			q := newQuadratic(rnd, n)
			x := make([]float64, n)
			for i := range x {
				x[i] = q.c[i] + 2*rnd.NormFloat64()
			}
			f0 := q.f(x)
			opt := mustBuild(t, c, n)
			g := make([]float64, n)
			for range steps {
				q.grad(g, x)
				if c.maximizes() { // ascend −f
					for i := range g {
						g[i] = -g[i]
					}
				}
				if err := opt.Step(x, g); err != nil {
					t.Fatal(err)
				}
			}
			if f := q.f(x); !(f < 0.01*f0) || math.IsNaN(f) {
				t.Errorf("f = %.3g after %d steps from %.3g, want < 1%%", f, steps, f0)
			}
			if opt.Steps() != steps {
				t.Errorf("Steps() = %d, want %d", opt.Steps(), steps)
			}
		})
	}
}
