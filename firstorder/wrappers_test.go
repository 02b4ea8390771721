package firstorder

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestScheduledRates checks that each step of a Scheduled optimizer uses the
// schedule's rate: plain SGD on a constant gradient of 1 moves θ by −lr_k.
func TestScheduledRates(t *testing.T) {
	for _, c := range []struct {
		name  string
		sched Schedule
		want  []float64 // rates of steps 0, 1, … for base 0.5
	}{
		{"Constant", Constant{}, []float64{0.5, 0.5, 0.5}},
		{"StepDecay", StepDecay{Every: 2}, []float64{0.5, 0.5, 0.05, 0.05, 0.005}},
		{"Exponential", Exponential{Gamma: 0.5}, []float64{0.5, 0.25, 0.125}},
		{"Cosine", Cosine{Steps: 2, Min: 0.1}, []float64{0.5, 0.3, 0.1, 0.1, 0.1}},
		{"Warmup", Warmup{Steps: 4, Start: 0.5}, []float64{0.25, 0.3125, 0.375, 0.4375, 0.5, 0.5}},
		{"Warmup+Exponential", Warmup{Steps: 2, Start: 0.5, Then: Exponential{Gamma: 0.5}},
			[]float64{0.25, 0.375, 0.5, 0.25, 0.125}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sgd, _ := NewSGD(1, SGDSettings{LR: 0.5})
			opt, err := NewScheduled(sgd, c.sched)
			if err != nil {
				t.Fatal(err)
			}
			x := []float64{0}
			for k, want := range c.want {
				if got := opt.LearningRate(); math.Abs(got-want) > 1e-15 {
					t.Errorf("step %d: LearningRate() = %v, want %v", k, got, want)
				}
				before := x[0]
				if err := opt.Step(x, []float64{1}); err != nil {
					t.Fatal(err)
				}
				if got := before - x[0]; math.Abs(got-want) > 1e-15 {
					t.Errorf("step %d moved by %v, want %v", k, got, want)
				}
			}
		})
	}
}

func TestScheduledBase(t *testing.T) {
	sgd, _ := NewSGD(1, SGDSettings{LR: 0.5})
	opt, _ := NewScheduled(sgd, Exponential{Gamma: 0.5})
	x := []float64{0}
	opt.Step(x, []float64{1})
	// A failed step leaves the wrapped optimizer's rate as it was.
	inner := sgd.LearningRate()
	if err := opt.Step(x, []float64{math.NaN()}); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("error %v", err)
	}
	if sgd.LearningRate() != inner || opt.Steps() != 1 {
		t.Fatal("failed step changed the rate or the step count")
	}
	// SetLearningRate sets the base the schedule scales.
	if err := opt.SetLearningRate(2); err != nil {
		t.Fatal(err)
	}
	if got := opt.LearningRate(); got != 1 {
		t.Fatalf("rate %v after base 2 at step 1 of γ = 0.5, want 1", got)
	}
	opt.Reset()
	if opt.Steps() != 0 || opt.LearningRate() != 0.5 {
		t.Fatalf("after Reset: %d steps, rate %v", opt.Steps(), opt.LearningRate())
	}
}

func TestClipNormRange(t *testing.T) {
	s3 := 1 / math.Sqrt(3)
	for _, c := range []struct {
		name    string
		g       []float64
		norm    float64
		clipped []float64 // grad after ClipNorm(grad, 1)
	}{
		{"overflowing squares", []float64{3e200, -4e200}, 5e200, []float64{0.6, -0.8}},
		{"underflowing squares", []float64{3e-200, 4e-200}, 5e-200, []float64{3e-200, 4e-200}},
		{"subnormal", []float64{0, 5e-324}, 5e-324, []float64{0, 5e-324}},
		{"zero", []float64{0, 0, 0}, 0, []float64{0, 0, 0}},
		// The norm itself overflows: +Inf, yet the direction is kept.
		{"overflowing norm", []float64{1e308, -1e308, 1e308}, math.Inf(1), []float64{s3, -s3, s3}},
		// Left as they are, so that Step names the bad value.
		{"NaN", []float64{1, math.NaN()}, math.NaN(), []float64{1, math.NaN()}},
		{"infinity", []float64{1, math.Inf(-1)}, math.Inf(1), []float64{1, math.Inf(-1)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := slices.Clone(c.g)
			got := ClipNorm(g, 1)
			if !(got == c.norm || math.Abs(got-c.norm) <= 1e-15*c.norm || math.IsNaN(got) && math.IsNaN(c.norm)) {
				t.Fatalf("norm %v, want %v", got, c.norm)
			}
			for i, want := range c.clipped {
				if !(g[i] == want || math.Abs(g[i]-want) <= 1e-15 || math.IsNaN(g[i]) && math.IsNaN(want)) {
					t.Errorf("clipped to %v, want %v", g, c.clipped)
					break
				}
			}
		})
	}
	if msg := panicMessage(func() { ClipNorm([]float64{1}, 0) }); !strings.HasPrefix(msg, "firstorder: ClipNorm: maxNorm = 0") {
		t.Errorf("ClipNorm with maxNorm 0: panic %q", msg)
	}
}

// TestScheduleMisuse checks that a schedule used without validation panics
// with a message rather than dividing by zero.
func TestScheduleMisuse(t *testing.T) {
	if msg := panicMessage(func() { StepDecay{}.LearningRate(3, 1) }); !strings.HasPrefix(msg, "firstorder: StepDecay: Every = 0") {
		t.Errorf("StepDecay{}.LearningRate: panic %q", msg)
	}
}

// TestCenteredRMSpropFlatGradient checks that centered RMSprop stays finite
// where the gradient barely changes: s − a², a variance, goes to 0 and
// rounding can make it negative (with α = 0.5 and g = −2.5 it does at step
// 53), where its square root would be NaN. Each step is bounded by
// lr·|g|/ε since the denominator is at least ε.
func TestCenteredRMSpropFlatGradient(t *testing.T) {
	for _, g := range []float64{-2.5, 0.3, 7.7} {
		s := DefaultRMSpropSettings()
		s.Alpha, s.Centered = 0.5, true
		opt := mustOpt(NewRMSprop(1, s))
		x := []float64{0}
		for k := range 200 {
			before := x[0]
			if err := opt.Step(x, []float64{g}); err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(x[0] - before); !(d <= s.LR*math.Abs(g)/s.Eps*(1+1e-15)) {
				t.Fatalf("g = %v, step %d: |Δθ| = %v, want ≤ lr·|g|/ε = %v", g, k, d, s.LR*math.Abs(g)/s.Eps)
			}
		}
	}
}

// TestStepAllocations checks that Step allocates nothing, for every
// optimizer, variant and wrapper.
func TestStepAllocations(t *testing.T) {
	const n = 37
	for _, c := range configs() {
		opt := mustBuild(t, c, n)
		x, g := make([]float64, n), make([]float64, n)
		for i := range g {
			g[i] = float64(i%5) - 2
		}
		if a := testing.AllocsPerRun(20, func() {
			if err := opt.Step(x, g); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per Step", c.name, a)
		}
	}
}
