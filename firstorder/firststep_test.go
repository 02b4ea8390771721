package firstorder

import (
	"math"
	"testing"
)

// TestFirstStep checks the first step of the adaptive methods against closed
// forms: with bias correction m̂ = g and v̂ = g², so Adam's first step has
// size lr·|g|/(|g|+ε) ≈ lr in every coordinate, whatever the scale of g.
func TestFirstStep(t *testing.T) {
	const lr, eps = 0.01, 1e-8
	g := []float64{1e-6, -3e-3, 0.5, -1, 7, -2e4}
	b1, b2 := 0.9, 0.999
	mu := func(t float64) float64 { return b1 * (1 - 0.5*math.Pow(0.96, t*4e-3)) }
	for _, c := range []struct {
		name string
		opt  func() (Optimizer, error)
		step func(g float64) float64 // closed form of the first Δθ
	}{
		{"Adam", func() (Optimizer, error) { return NewAdam(len(g), adamLR(lr)) },
			func(g float64) float64 { return -lr * g / (math.Abs(g) + eps) }},
		{"AdamW", func() (Optimizer, error) {
			s := DefaultAdamWSettings()
			s.LR, s.WeightDecay = lr, 0
			return NewAdamW(len(g), s)
		}, func(g float64) float64 { return -lr * g / (math.Abs(g) + eps) }},
		{"Adam-amsgrad", func() (Optimizer, error) {
			s := adamLR(lr)
			s.AMSGrad = true
			return NewAdam(len(g), s)
		}, func(g float64) float64 { return -lr * g / (math.Abs(g) + eps) }},
		{"Adamax", func() (Optimizer, error) {
			s := DefaultAdamaxSettings()
			s.LR = lr
			return NewAdamax(len(g), s)
		}, func(g float64) float64 { return -lr * g / (math.Abs(g) + eps) }},
		{"NAdam", func() (Optimizer, error) {
			s := DefaultNAdamSettings()
			s.LR = lr
			return NewNAdam(len(g), s)
		},
			// −lr·g/d·(1 + (1−β₁)μ₂/(1−μ₁μ₂)), d = |g| + ε.
			func(g float64) float64 {
				return -lr * g / (math.Abs(g) + eps) * (1 + (1-b1)*mu(2)/(1-mu(1)*mu(2)))
			}},
		{"RAdam", func() (Optimizer, error) {
			s := DefaultRAdamSettings()
			s.LR = lr
			return NewRAdam(len(g), s)
		}, func(g float64) float64 { return -lr * g }}, // ρ₁ = 1: unrectified momentum step
		{"AdaBelief", func() (Optimizer, error) {
			s := DefaultAdaBeliefSettings()
			s.LR = lr
			return NewAdaBelief(len(g), s)
		},
			// s₁ = (1−β₂)(0.9g)² + ε, ŝ = s₁/(1−β₂).
			func(g float64) float64 {
				s := (1-b2)*0.81*g*g + 1e-16
				return -lr * g / (math.Sqrt(s/(1-b2)) + 1e-16)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt, err := c.opt()
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float64, len(g))
			if err := opt.Step(x, g); err != nil {
				t.Fatal(err)
			}
			for i, gi := range g {
				want := c.step(gi)
				if math.Abs(x[i]-want) > 1e-14*math.Abs(want) {
					t.Errorf("g = %v: step %v, want %v", gi, x[i], want)
				}
			}
		})
	}

	// Without the correction Adam's first step would be
	// lr·(1−β₁)g/(√(1−β₂)|g| + ε) ≈ 3.16·lr: the correction matters.
	opt, _ := NewAdam(1, adamLR(lr))
	x := []float64{0}
	opt.Step(x, []float64{1})
	uncorrected := lr * (1 - b1) / (math.Sqrt(1-b2) + eps)
	if r := uncorrected / -x[0]; !(r > 3 && r < 3.2) {
		t.Errorf("uncorrected/corrected first step = %v, want ≈ 3.16", r)
	}
}

// adamLR returns torch's Adam defaults with learning rate lr.
func adamLR(lr float64) AdamSettings {
	s := DefaultAdamSettings()
	s.LR = lr
	return s
}
