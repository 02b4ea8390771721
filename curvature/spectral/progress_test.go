package spectral

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// progressLog records the reports of a curvature.Progress.
type progressLog struct{ done, total []int }

func (l *progressLog) report(done, total int) {
	l.done = append(l.done, done)
	l.total = append(l.total, total)
}

// check asserts that the reports count up by one step at a time (or jump
// to the end), share one total and end at it, and returns the steps
// reported before any final jump.
func (l *progressLog) check(t *testing.T, total int) int {
	t.Helper()
	require.NotEmpty(t, l.done)
	steps := 0
	for i, d := range l.done {
		assert.Equal(t, total, l.total[i])
		prev := 0
		if i > 0 {
			prev = l.done[i-1]
		}
		if d != prev+1 {
			assert.Equal(t, total, d, "report %d: %d after %d", i, d, prev)
			assert.Equal(t, len(l.done)-1, i, "a jump to the end is the last report")
			continue
		}
		steps++
	}
	assert.Equal(t, total, l.done[len(l.done)-1])
	return steps
}

// TestLanczosProgress: one report per Lanczos step, then the end, whether
// the run converges early or uses every step.
func TestLanczosProgress(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 5))
	a := curvature.NewDense(decaying(120, 2)(rnd))
	for _, maxSteps := range []int{60, 8} {
		var log progressLog
		l := Lanczos{K: 2, MaxSteps: maxSteps, Progress: log.report}
		res, _ := l.Eigen(a)
		require.NotNil(t, res)
		assert.Equal(t, res.Steps, log.check(t, maxSteps), "MaxSteps %d", maxSteps)
	}
}

// TestSLQProgress: one report per Lanczos step of every probe, a probe
// that breaks down early skipping the rest of its steps.
func TestSLQProgress(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 6))
	// A diagonal matrix with two distinct eigenvalues: every probe's Krylov
	// space is invariant after two steps of the ten asked for.
	two := mat.NewSymDense(30, nil)
	for i := range 30 {
		two.SetSym(i, i, float64(1+i%2))
	}
	for _, c := range []struct {
		a     mat.Symmetric
		steps int // per probe
	}{{randSym(40, rnd), 10}, {two, 2}} {
		var log progressLog
		s := SLQ{Steps: 10, Probes: 4, Progress: log.report}
		d, err := s.Density(curvature.NewDense(c.a))
		require.NoError(t, err)
		require.Equal(t, 4*c.steps, d.Products)
		// Reports rise by one within a probe and jump to the next probe's
		// start after a breakdown; the last is 40 of 40.
		want := []int{}
		for p := range 4 {
			for j := 1; j <= c.steps; j++ {
				want = append(want, 10*p+j)
			}
		}
		if c.steps < 10 {
			want = append(want, 40)
		}
		assert.Equal(t, want, log.done)
		for _, tot := range log.total {
			assert.Equal(t, 40, tot)
		}
	}
}
