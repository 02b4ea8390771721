package firstorder

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of each step as a function of the step
// index and the base learning rate. Scheduled applies one to an optimizer.
// The built-in schedules are closed forms of torch.optim.lr_scheduler's, so
// that step k here uses the rate torch uses after k calls of
// scheduler.step().
type Schedule interface {
	// LearningRate returns the learning rate of step step (0 for the first
	// step) for the base rate base.
	LearningRate(step int, base float64) float64
}

// Validator is implemented by schedules that can check their settings;
// NewScheduled calls it.
type Validator interface {
	Validate() error
}

var (
	_ Schedule = Constant{}
	_ Schedule = StepDecay{}
	_ Schedule = Exponential{}
	_ Schedule = Cosine{}
	_ Schedule = Warmup{}
)

// Constant keeps the base rate.
type Constant struct{}

// LearningRate returns base.
func (Constant) LearningRate(_ int, base float64) float64 { return base }

// StepDecay multiplies the rate by Gamma every Every steps,
// base·γ^⌊step/Every⌋, as torch's StepLR.
type StepDecay struct {
	// Every ≥ 1 is the number of steps between decays (torch's step_size).
	// It has no default.
	Every int
	// Gamma in (0, 1] is the factor. If Gamma is 0 it is defaulted to 0.1,
	// torch's default (a factor of 0 would stop training).
	Gamma float64
}

// LearningRate returns base·γ^⌊step/Every⌋. It panics if Every < 1, which
// Validate (and so NewScheduled) reports as an error.
func (s StepDecay) LearningRate(step int, base float64) float64 {
	if s.Every < 1 {
		panic(fmt.Sprintf("firstorder: StepDecay: Every = %d, want ≥ 1", s.Every))
	}
	return base * math.Pow(withDefault(s.Gamma, 0.1), float64(step/s.Every))
}

// Validate reports invalid settings.
func (s StepDecay) Validate() error {
	if s.Every < 1 {
		return fmt.Errorf("firstorder: StepDecay: Every = %d, want ≥ 1", s.Every)
	}
	return checkFactor("StepDecay", "Gamma", withDefault(s.Gamma, 0.1))
}

// Exponential multiplies the rate by Gamma every step, base·γ^step, as
// torch's ExponentialLR.
type Exponential struct {
	// Gamma in (0, 1] is the factor per step. It has no default.
	Gamma float64
}

// LearningRate returns base·γ^step.
func (s Exponential) LearningRate(step int, base float64) float64 {
	return base * math.Pow(s.Gamma, float64(step))
}

// Validate reports invalid settings.
func (s Exponential) Validate() error { return checkFactor("Exponential", "Gamma", s.Gamma) }

// Cosine anneals the rate from base to Min over Steps steps along half a
// cosine, as torch's CosineAnnealingLR with T_max = Steps and eta_min = Min:
//
//	Min + (base − Min)·(1 + cos(π·step/Steps))/2
//
// After Steps steps it stays at Min, where torch's rate would rise again
// along the cosine.
type Cosine struct {
	// Steps ≥ 1 is the length of the annealing.
	Steps int
	// Min ≥ 0 is the final rate. 0 means the rate ends at 0.
	Min float64
}

// LearningRate returns the annealed rate.
func (s Cosine) LearningRate(step int, base float64) float64 {
	if step >= s.Steps {
		return s.Min
	}
	return s.Min + (base-s.Min)*(1+math.Cos(math.Pi*float64(step)/float64(s.Steps)))/2
}

// Validate reports invalid settings.
func (s Cosine) Validate() error {
	if s.Steps < 1 {
		return fmt.Errorf("firstorder: Cosine: Steps = %d, want ≥ 1", s.Steps)
	}
	return checkNonNeg("Cosine", "Min", s.Min)
}

// Warmup raises the rate linearly from Start·base to base over Steps steps,
// then follows Then, started afresh: step k ≥ Steps uses Then's rate for
// step k − Steps. This is torch's LinearLR(start_factor=Start,
// total_iters=Steps), chained by SequentialLR with milestone Steps.
type Warmup struct {
	// Steps ≥ 1 is the length of the warm-up.
	Steps int
	// Start in (0, 1] is the first step's fraction of base. If Start is 0
	// it is defaulted to 1/3, torch's default (torch requires a factor
	// > 0).
	Start float64
	// Then is the schedule after the warm-up; nil means Constant.
	Then Schedule
}

// LearningRate returns the warmed-up rate.
func (s Warmup) LearningRate(step int, base float64) float64 {
	if step >= s.Steps {
		if s.Then == nil {
			return base
		}
		return s.Then.LearningRate(step-s.Steps, base)
	}
	start := withDefault(s.Start, 1.0/3)
	return base * (start + (1-start)*float64(step)/float64(s.Steps))
}

// Validate reports invalid settings, including those of Then.
func (s Warmup) Validate() error {
	if s.Steps < 1 {
		return fmt.Errorf("firstorder: Warmup: Steps = %d, want ≥ 1", s.Steps)
	}
	if err := checkFactor("Warmup", "Start", withDefault(s.Start, 1.0/3)); err != nil {
		return err
	}
	if v, ok := s.Then.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// checkFactor reports a multiplicative factor outside (0, 1].
func checkFactor(kind, field string, v float64) error {
	if !(v > 0 && v <= 1) {
		return fmt.Errorf("firstorder: %s: %s = %v is outside (0, 1]", kind, field, v)
	}
	return nil
}
