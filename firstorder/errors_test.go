package firstorder

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestBadSettings(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name  string
		build func() (Optimizer, error)
	}{
		{"no parameters", func() (Optimizer, error) { return NewAdam(0, AdamSettings{}) }},
		{"negative n", func() (Optimizer, error) { return NewSGD(-3, SGDSettings{}) }},
		{"negative LR", func() (Optimizer, error) { return NewSGD(3, SGDSettings{LR: -1e-3}) }},
		{"NaN LR", func() (Optimizer, error) { return NewAdam(3, AdamSettings{LR: nan}) }},
		{"infinite LR", func() (Optimizer, error) { return NewRMSprop(3, RMSpropSettings{LR: inf}) }},
		{"momentum 1", func() (Optimizer, error) { return NewSGD(3, SGDSettings{Momentum: 1}) }},
		{"negative momentum", func() (Optimizer, error) { return NewSGD(3, SGDSettings{Momentum: -0.5}) }},
		{"dampening above 1", func() (Optimizer, error) { return NewSGD(3, SGDSettings{Momentum: 0.9, Dampening: 1.5}) }},
		{"NaN weight decay", func() (Optimizer, error) { return NewSGD(3, SGDSettings{WeightDecay: nan}) }},
		{"Nesterov without momentum", func() (Optimizer, error) { return NewSGD(3, SGDSettings{Nesterov: true}) }},
		{"Nesterov with dampening", func() (Optimizer, error) {
			return NewSGD(3, SGDSettings{Nesterov: true, Momentum: 0.9, Dampening: 0.1})
		}},
		{"Adam Beta1 = 1", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Beta1: 1}) }},
		{"Adam Beta2 > 1", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Beta2: 1.5}) }},
		{"Adam negative Beta1", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Beta1: -0.1}) }},
		{"Adam NaN Beta2", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Beta2: nan}) }},
		{"Adam negative Eps", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Eps: -1e-8}) }},
		{"Adam infinite Eps", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Eps: inf}) }},
		{"Adam negative weight decay", func() (Optimizer, error) { return NewAdam(3, AdamSettings{WeightDecay: -1}) }},
		{"AdamW negative weight decay", func() (Optimizer, error) { return NewAdamW(3, AdamWSettings{WeightDecay: -1}) }},
		{"AdamW Beta1 = 1", func() (Optimizer, error) { return NewAdamW(3, AdamWSettings{Beta1: 1}) }},
		{"Adagrad negative LRDecay", func() (Optimizer, error) { return NewAdagrad(3, AdagradSettings{LRDecay: -1}) }},
		{"Adagrad negative accumulator", func() (Optimizer, error) {
			return NewAdagrad(3, AdagradSettings{InitialAccumulator: -1})
		}},
		{"Adagrad negative Eps", func() (Optimizer, error) { return NewAdagrad(3, AdagradSettings{Eps: -1}) }},
		{"RMSprop Alpha = 1", func() (Optimizer, error) { return NewRMSprop(3, RMSpropSettings{Alpha: 1}) }},
		{"RMSprop momentum 2", func() (Optimizer, error) { return NewRMSprop(3, RMSpropSettings{Momentum: 2}) }},
		{"RMSprop negative Eps", func() (Optimizer, error) { return NewRMSprop(3, RMSpropSettings{Eps: -1}) }},
		{"Adamax Beta2 = 1", func() (Optimizer, error) { return NewAdamax(3, AdamaxSettings{Beta2: 1}) }},
		{"NAdam negative momentum decay", func() (Optimizer, error) { return NewNAdam(3, NAdamSettings{MomentumDecay: -1}) }},
		{"NAdam NaN Eps", func() (Optimizer, error) { return NewNAdam(3, NAdamSettings{Eps: nan}) }},
		{"RAdam Beta1 = 1", func() (Optimizer, error) { return NewRAdam(3, RAdamSettings{Beta1: 1}) }},
		{"AdaBelief negative Eps", func() (Optimizer, error) { return NewAdaBelief(3, AdaBeliefSettings{Eps: -1e-16}) }},
		{"AdaBelief Beta2 = 1", func() (Optimizer, error) { return NewAdaBelief(3, AdaBeliefSettings{Beta2: 1}) }},
		{"Clipped zero norm", func() (Optimizer, error) { return NewClipped(mustAdam(t), 0) }},
		{"Clipped NaN norm", func() (Optimizer, error) { return NewClipped(mustAdam(t), nan) }},
		{"StepDecay Every 0", func() (Optimizer, error) { return NewScheduled(mustAdam(t), StepDecay{}) }},
		{"StepDecay Gamma 2", func() (Optimizer, error) { return NewScheduled(mustAdam(t), StepDecay{Every: 2, Gamma: 2}) }},
		{"Exponential no Gamma", func() (Optimizer, error) { return NewScheduled(mustAdam(t), Exponential{}) }},
		{"Cosine no Steps", func() (Optimizer, error) { return NewScheduled(mustAdam(t), Cosine{}) }},
		{"Cosine negative Min", func() (Optimizer, error) { return NewScheduled(mustAdam(t), Cosine{Steps: 9, Min: -1}) }},
		{"Warmup no Steps", func() (Optimizer, error) { return NewScheduled(mustAdam(t), Warmup{}) }},
		{"Warmup Start 2", func() (Optimizer, error) { return NewScheduled(mustAdam(t), Warmup{Steps: 3, Start: 2}) }},
		{"Warmup bad Then", func() (Optimizer, error) { return NewScheduled(mustAdam(t), Warmup{Steps: 3, Then: Cosine{}}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.build(); err == nil {
				t.Fatal("no error")
			} else {
				t.Log(err)
			}
		})
	}
}

func mustAdam(t *testing.T) *Adam {
	opt, err := NewAdam(3, AdamSettings{})
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// TestBadGradient checks that every optimizer reports bad input and leaves
// the parameters and its state exactly as they were.
func TestBadGradient(t *testing.T) {
	const n = 11
	nan := math.NaN()
	for _, c := range configs() {
		t.Run(c.name, func(t *testing.T) {
			opt := mustBuild(t, c, n)
			x := make([]float64, n)
			g := make([]float64, n)
			for k := range 3 {
				for i := range g {
					g[i] = math.Sin(float64(k*n + i))
				}
				if err := opt.Step(x, g); err != nil {
					t.Fatal(err)
				}
			}
			var before bytes.Buffer
			if err := opt.Save(&before); err != nil {
				t.Fatal(err)
			}
			x0, lr0 := slices.Clone(x), opt.LearningRate()
			for _, bad := range []struct {
				name string
				x, g []float64
				want error
			}{
				{"short x", x[:n-1], g, ErrLength},
				{"short grad", x, g[:n-1], ErrLength},
				{"long grad", x, append(slices.Clone(g), 1), ErrLength},
				{"nil", nil, nil, ErrLength},
				{"NaN first", x, withAt(g, 0, nan), ErrNonFinite},
				{"NaN last", x, withAt(g, n-1, nan), ErrNonFinite},
				{"+Inf", x, withAt(g, 5, math.Inf(1)), ErrNonFinite},
				{"-Inf", x, withAt(g, 9, math.Inf(-1)), ErrNonFinite},
			} {
				err := opt.Step(bad.x, bad.g)
				if !errors.Is(err, bad.want) {
					t.Errorf("%s: error %v, want %v", bad.name, err, bad.want)
				}
				var after bytes.Buffer
				if err := opt.Save(&after); err != nil {
					t.Fatal(err)
				}
				if !sameBits(x, x0) || !bytes.Equal(before.Bytes(), after.Bytes()) || opt.LearningRate() != lr0 {
					t.Fatalf("%s: parameters or state changed", bad.name)
				}
			}
			if err := opt.Step(x, g); err != nil {
				t.Errorf("good step after bad ones: %v", err)
			}
		})
	}
}

func withAt(v []float64, i int, val float64) []float64 {
	w := slices.Clone(v)
	w[i] = val
	return w
}

func TestSetLearningRate(t *testing.T) {
	for _, c := range configs() {
		opt := mustBuild(t, c, 4)
		lr := opt.LearningRate()
		for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
			if err := opt.SetLearningRate(bad); err == nil {
				t.Errorf("%s: SetLearningRate(%v) gave no error", c.name, bad)
			}
			if opt.LearningRate() != lr {
				t.Errorf("%s: failed SetLearningRate changed the rate", c.name)
			}
		}
		if err := opt.SetLearningRate(0.125); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if _, ok := opt.(*Scheduled); !ok && opt.LearningRate() != 0.125 {
			t.Errorf("%s: LearningRate() = %v after SetLearningRate(0.125)", c.name, opt.LearningRate())
		}
		opt.Reset()
		if opt.LearningRate() != lr {
			t.Errorf("%s: Reset left learning rate %v, want %v", c.name, opt.LearningRate(), lr)
		}
	}
}

// TestZero checks that Zero gives an explicit 0 where 0 would mean a default.
func TestZero(t *testing.T) {
	if Zero != 0 || !math.Signbit(Zero) {
		t.Fatal("Zero is not negative zero")
	}
	if orDefault(0, 7) != 7 || orDefault(Zero, 7) != 0 || math.Signbit(orDefault(Zero, 7)) || orDefault(3, 7) != 3 {
		t.Fatal("orDefault")
	}

	// AdamW with no decay is Adam, bit for bit.
	a, _ := NewAdam(5, AdamSettings{LR: 0.1})
	w, _ := NewAdamW(5, AdamWSettings{LR: 0.1, WeightDecay: Zero})
	d, _ := NewAdamW(5, AdamWSettings{LR: 0.1})
	xa, xw, xd := []float64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 4, 5}
	for k := range 5 {
		g := []float64{float64(k), -1, 0.5, 2, -3}
		a.Step(xa, g)
		w.Step(xw, g)
		d.Step(xd, g)
	}
	if !sameBits(xa, xw) {
		t.Errorf("AdamW{WeightDecay: Zero} differs from Adam: %v, %v", xw, xa)
	}
	if sameBits(xa, xd) {
		t.Error("AdamW's default weight decay had no effect")
	}

	// Adam with β₁ = 0 steps along g/(√v̂ + ε) with no momentum: after
	// gradients 1 and −1 the second step is lr·1/(1+ε)·… back toward 0.
	b, _ := NewAdam(1, AdamSettings{LR: 0.1, Beta1: Zero, Eps: Zero})
	x := []float64{0}
	b.Step(x, []float64{1})
	b.Step(x, []float64{-1})
	if math.Abs(x[0]) > 1e-15 {
		t.Errorf("Adam with β₁ = 0: x = %v after steps of +g and −g, want 0", x[0])
	}
}
