package firstorder

import (
	"errors"
	"math"
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
	for _, c := range []struct {
		name string
		g    []float64
		norm float64
	}{
		{"overflowing squares", []float64{3e200, -4e200}, 5e200},
		{"underflowing squares", []float64{3e-200, 4e-200}, 5e-200},
		{"subnormal", []float64{0, 5e-324}, 5e-324},
		{"zero", []float64{0, 0, 0}, 0},
		{"NaN", []float64{1, math.NaN()}, math.NaN()},
		{"infinity", []float64{1, math.Inf(-1)}, math.Inf(1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := append([]float64(nil), c.g...)
			got := ClipNorm(g, 1)
			if !(got == c.norm || math.Abs(got-c.norm) <= 1e-15*c.norm || math.IsNaN(got) && math.IsNaN(c.norm)) {
				t.Fatalf("norm %v, want %v", got, c.norm)
			}
			if c.norm > 1 && !math.IsInf(c.norm, 1) {
				if n := ClipNorm(g, 2); math.Abs(n-1) > 1e-15 {
					t.Errorf("norm after clipping to 1 is %v", n)
				}
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("ClipNorm with maxNorm 0 did not panic")
		}
	}()
	ClipNorm([]float64{1}, 0)
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
