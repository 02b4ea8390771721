package firstorder

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
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
		{"Adam NaN Eps", func() (Optimizer, error) { return NewAdam(3, AdamSettings{Eps: nan}) }},
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
		{"Adadelta Rho above 1", func() (Optimizer, error) { return NewAdadelta(3, AdadeltaSettings{Rho: 1.5}) }},
		{"Adadelta negative Rho", func() (Optimizer, error) { return NewAdadelta(3, AdadeltaSettings{Rho: -0.1}) }},
		{"Adadelta negative Eps", func() (Optimizer, error) { return NewAdadelta(3, AdadeltaSettings{Eps: -1}) }},
		{"Adadelta NaN weight decay", func() (Optimizer, error) { return NewAdadelta(3, AdadeltaSettings{WeightDecay: nan}) }},
		{"Rprop EtaMinus 1", func() (Optimizer, error) { return NewRprop(3, RpropSettings{EtaMinus: 1}) }},
		{"Rprop negative EtaMinus", func() (Optimizer, error) { return NewRprop(3, RpropSettings{EtaMinus: -0.5}) }},
		{"Rprop EtaPlus below 1", func() (Optimizer, error) { return NewRprop(3, RpropSettings{EtaPlus: 0.9}) }},
		{"Rprop infinite EtaPlus", func() (Optimizer, error) { return NewRprop(3, RpropSettings{EtaPlus: inf}) }},
		{"Rprop negative StepMin", func() (Optimizer, error) { return NewRprop(3, RpropSettings{StepMin: -1}) }},
		{"Rprop StepMax below StepMin", func() (Optimizer, error) { return NewRprop(3, RpropSettings{StepMin: 1, StepMax: 0.5}) }},
		{"Rprop infinite StepMax", func() (Optimizer, error) { return NewRprop(3, RpropSettings{StepMax: inf}) }},
		{"Rprop NaN LR", func() (Optimizer, error) { return NewRprop(3, RpropSettings{LR: nan}) }},
		{"ASGD negative Lambda", func() (Optimizer, error) { return NewASGD(3, ASGDSettings{Lambda: -1}) }},
		{"ASGD NaN Alpha", func() (Optimizer, error) { return NewASGD(3, ASGDSettings{Alpha: nan}) }},
		{"ASGD infinite T0", func() (Optimizer, error) { return NewASGD(3, ASGDSettings{T0: inf}) }},
		{"ASGD negative weight decay", func() (Optimizer, error) { return NewASGD(3, ASGDSettings{WeightDecay: -1}) }},
		{"Clipped zero norm", func() (Optimizer, error) { return NewClipped(mustAdam(t), 0) }},
		{"Clipped NaN norm", func() (Optimizer, error) { return NewClipped(mustAdam(t), nan) }},
		{"Clipped nil", func() (Optimizer, error) { return NewClipped(nil, 1) }},
		{"Clipped nil *Adam", func() (Optimizer, error) {
			failed, _ := NewAdam(0, AdamSettings{}) // the nil a failed constructor returns
			return NewClipped(failed, 1)
		}},
		{"Scheduled nil optimizer", func() (Optimizer, error) { return NewScheduled(nil, Constant{}) }},
		{"Scheduled nil *SGD", func() (Optimizer, error) { return NewScheduled((*SGD)(nil), Constant{}) }},
		{"Scheduled nil schedule", func() (Optimizer, error) { return NewScheduled(mustAdam(t), nil) }},
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
			_, err := c.build()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "firstorder: ") {
				t.Errorf("error %q lacks the package prefix", err)
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

// TestBadGradient checks that every optimizer reports a NaN or an infinity
// in the gradient with an error naming the first bad entry as it is, panics
// on a length mismatch with a message giving the lengths, and in both cases
// leaves the parameters and its state exactly as they were.
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
			unchanged := snapshot(t, opt, x)
			for _, bad := range []struct {
				name   string
				x, g   []float64
				msg    string // in the error, or the panic
				panics bool
			}{
				{"NaN first", x, withAt(g, 0, nan), "grad[0] = NaN", false},
				{"NaN last", x, withAt(g, n-1, nan), "grad[10] = NaN", false},
				{"+Inf", x, withAt(g, 5, math.Inf(1)), "grad[5] = +Inf", false},
				{"-Inf", x, withAt(g, 9, math.Inf(-1)), "grad[9] = -Inf", false},
				{"+Inf then NaN", x, withAt(withAt(g, 2, math.Inf(1)), 7, nan), "grad[2] = +Inf", false},
				{"short x", x[:n-1], g, "built for 11 parameters, len(x) = 10, len(grad) = 11", true},
				{"short grad", x, g[:n-1], "built for 11 parameters, len(x) = 11, len(grad) = 10", true},
				{"long grad", x, append(slices.Clone(g), 1), "built for 11 parameters, len(x) = 11, len(grad) = 12", true},
				{"nil", nil, nil, "built for 11 parameters, len(x) = 0, len(grad) = 0", true},
			} {
				var err error
				msg := panicMessage(func() { err = opt.Step(bad.x, bad.g) })
				switch {
				case bad.panics:
					if !strings.HasPrefix(msg, "firstorder: ") || !strings.Contains(msg, bad.msg) {
						t.Errorf("%s: panic %q, want a firstorder panic naming %q", bad.name, msg, bad.msg)
					}
				case msg != "":
					t.Errorf("%s: panic %q", bad.name, msg)
				case !errors.Is(err, ErrNonFinite) || !strings.HasPrefix(err.Error(), "firstorder: ") || !strings.Contains(err.Error(), bad.msg):
					t.Errorf("%s: error %v, want ErrNonFinite naming %q", bad.name, err, bad.msg)
				}
				unchanged(bad.name)
			}
			if err := opt.Step(x, g); err != nil {
				t.Errorf("good step after bad ones: %v", err)
			}
		})
	}
}

// snapshot records x, opt's saved state and its learning rate, and returns a
// function that fails the test if any has changed since.
func snapshot(t *testing.T, opt Optimizer, x []float64) func(what string) {
	t.Helper()
	var before bytes.Buffer
	if err := opt.Save(&before); err != nil {
		t.Fatal(err)
	}
	x0, lr0 := slices.Clone(x), opt.LearningRate()
	return func(what string) {
		t.Helper()
		var after bytes.Buffer
		if err := opt.Save(&after); err != nil {
			t.Fatal(err)
		}
		if !sameBits(x, x0) || !bytes.Equal(before.Bytes(), after.Bytes()) || opt.LearningRate() != lr0 {
			t.Fatalf("%s: parameters or state changed", what)
		}
	}
}

func withAt(v []float64, i int, val float64) []float64 {
	w := slices.Clone(v)
	w[i] = val
	return w
}

// panicMessage returns the message f panics with, or "" if it returns.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
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

// TestZeroMeansZero checks that a decay rate, momentum or weight decay of 0
// is 0, not a default: each case steps a sequence of gradients and compares
// every step with the closed form of the update with that field at 0 (which
// the same settings with a default of 0.9 or 0.999 would miss).
func TestZeroMeansZero(t *testing.T) {
	const lr = 0.1
	gs := [][]float64{{1, -2e-3, 0, 30}, {-0.5, 4e-3, 0, 31}, {2, -1e-3, 0, -29}}
	signStep := func(_ int, g []float64, i int) float64 { return -lr * g[i] / (math.Abs(g[i]) + 1e-8) }
	for _, c := range []struct {
		name  string
		build func(n int) (Optimizer, error)
		step  func(k int, g []float64, i int) float64 // Δθᵢ at step k = 0, 1, …
	}{
		// β₁ = β₂ = 0: m = g and v = g², so every step is lr·g/(|g|+ε).
		{"Adam β=0", func(n int) (Optimizer, error) { return NewAdam(n, AdamSettings{LR: lr}) }, signStep},
		{"AdamW β=0 λ=0", func(n int) (Optimizer, error) { return NewAdamW(n, AdamWSettings{LR: lr}) }, signStep},
		{"Adamax β=0", func(n int) (Optimizer, error) { return NewAdamax(n, AdamaxSettings{LR: lr}) }, signStep},
		{"NAdam β=0", func(n int) (Optimizer, error) { return NewNAdam(n, NAdamSettings{LR: lr}) }, signStep},
		{"RMSprop α=0", func(n int) (Optimizer, error) { return NewRMSprop(n, RMSpropSettings{LR: lr}) }, signStep},
		// β₂ = 0 makes ρ∞ = 1: never rectified, always the momentum step lr·m̂ = lr·g.
		{"RAdam β=0", func(n int) (Optimizer, error) { return NewRAdam(n, RAdamSettings{LR: lr}) },
			func(_ int, g []float64, i int) float64 { return -lr * g[i] }},
		// m = g, so s = (g − m)² + ε = ε and the step is lr·g/(√ε + ε).
		{"AdaBelief β=0", func(n int) (Optimizer, error) { return NewAdaBelief(n, AdaBeliefSettings{LR: lr}) },
			func(_ int, g []float64, i int) float64 { return -lr * g[i] / (math.Sqrt(1e-16) + 1e-16) }},
		// β₁ = 0 alone: m̂ = g, v̂ = (1−β₂)Σ β₂^(k−j) g_j² / (1−β₂^k).
		{"Adam β₁=0", func(n int) (Optimizer, error) {
			s := DefaultAdamSettings()
			s.LR, s.Beta1 = lr, 0
			return NewAdam(n, s)
		}, func(k int, g []float64, i int) float64 {
			var v float64
			for j := 0; j <= k; j++ {
				v += 0.001 * math.Pow(0.999, float64(k-j)) * gs[j][i] * gs[j][i]
			}
			return -lr * g[i] / (math.Sqrt(v/(1-math.Pow(0.999, float64(k+1)))) + 1e-8)
		}},
		// ψ = 0: μ = β₁/2 at every step, so at step 1 (Π = μ, d = |g| + ε)
		// Δ = −lr·g/d − lr·μ/(1−μ²)·(1−β₁)g/d.
		{"NAdam ψ=0", func(n int) (Optimizer, error) {
			s := DefaultNAdamSettings()
			s.LR, s.MomentumDecay = lr, 0
			return NewNAdam(n, s)
		}, func(k int, g []float64, i int) float64 {
			if k > 0 {
				return math.NaN() // checked at the first step only
			}
			mu := 0.45
			d := math.Abs(g[i]) + 1e-8
			return -lr*g[i]/d - lr*mu/(1-mu*mu)*0.1*g[i]/d
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt, err := c.build(4)
			if err != nil {
				t.Fatal(err)
			}
			x := []float64{1, 2, 3, 4}
			for k, g := range gs {
				before := slices.Clone(x)
				if err := opt.Step(x, g); err != nil {
					t.Fatal(err)
				}
				for i := range x {
					want := c.step(k, g, i)
					if math.IsNaN(want) {
						continue
					}
					if got := x[i] - before[i]; math.Abs(got-want) > 1e-14*(math.Abs(want)+math.Abs(before[i])) {
						t.Errorf("step %d, θ[%d]: Δ = %v, want %v", k, i, got, want)
					}
				}
			}
		})
	}
}

// TestZeroWeightDecay checks that AdamW's weight decay of 0 is no decay: with
// a zero gradient, θ stays exactly where it is, with the zero value's betas
// and with torch's. The default decay does move it, to 1 − lr·λ.
func TestZeroWeightDecay(t *testing.T) {
	zero := []float64{0}
	d := DefaultAdamWSettings()
	d.LR, d.WeightDecay = 0.1, 0
	decayed := DefaultAdamWSettings()
	decayed.LR = 0.1
	for _, c := range []struct {
		name string
		s    AdamWSettings
		want float64
	}{
		{"zero value", AdamWSettings{LR: 0.1, WeightDecay: 0}, 1},
		{"defaults, WeightDecay 0", d, 1},
		{"defaults", decayed, 1 - 0.1*0.01},
	} {
		opt, err := NewAdamW(1, c.s)
		if err != nil {
			t.Fatal(err)
		}
		x := []float64{1}
		if err := opt.Step(x, zero); err != nil {
			t.Fatal(err)
		}
		if x[0] != c.want {
			t.Errorf("%s: θ = %v after a zero gradient, want %v", c.name, x[0], c.want)
		}
	}

	// AdamW without decay is Adam, bit for bit.
	a, _ := NewAdam(5, adamLR(0.1))
	w, _ := NewAdamW(5, d)
	xa, xw := []float64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 4, 5}
	for k := range 5 {
		g := []float64{float64(k), -1, 0.5, 2, -3}
		a.Step(xa, g)
		w.Step(xw, g)
	}
	if !sameBits(xa, xw) {
		t.Errorf("AdamW with WeightDecay 0 differs from Adam: %v, %v", xw, xa)
	}
}

// TestZeroDefaults checks the fields where 0 is not a meaningful value and so
// means the default: a learning rate (torch's per optimizer) and ε. Negative
// zero, the old explicit-zero value, is zero too. With ε = 0 a zero gradient
// entry would give 0/0 = NaN; the default keeps it at 0.
func TestZeroDefaults(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, c := range []struct {
		name    string
		opt     Optimizer
		lr, eps float64 // the defaults
	}{
		{"Adam", mustOpt(NewAdam(2, AdamSettings{Beta1: 0.9, Beta2: 0.999})), 1e-3, 1e-8},
		{"Adam −0", mustOpt(NewAdam(2, AdamSettings{LR: negZero, Beta1: 0.9, Beta2: 0.999, Eps: negZero})), 1e-3, 1e-8},
		{"Adamax", mustOpt(NewAdamax(2, AdamaxSettings{Beta1: 0.9, Beta2: 0.999})), 2e-3, 1e-8},
		{"RMSprop", mustOpt(NewRMSprop(2, RMSpropSettings{Alpha: 0.99})), 1e-2, 1e-8},
		{"Adagrad", mustOpt(NewAdagrad(2, AdagradSettings{})), 1e-2, 1e-10},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.opt.LearningRate() != c.lr {
				t.Errorf("learning rate %v, want %v", c.opt.LearningRate(), c.lr)
			}
			// With g = ε, the first step of every one of these is
			// lr·g/(|g|·k + ε) with k = 1 (Adam, Adamax after correction),
			// √(1−α) (RMSprop) or 1 (Adagrad): 0.5·lr or near it, where ε = 0
			// would give lr·g/(|g|k).
			x := []float64{0, 0}
			if err := c.opt.Step(x, []float64{0, c.eps}); err != nil {
				t.Fatal(err)
			}
			if x[0] != 0 {
				t.Errorf("zero gradient entry moved θ to %v", x[0])
			}
			k := 1.0
			if c.name == "RMSprop" {
				k = math.Sqrt(0.01)
			}
			want := -c.lr * c.eps / (c.eps*k + c.eps)
			if math.Abs(x[1]-want) > 1e-12*math.Abs(want) {
				t.Errorf("step %v with g = %v, want %v (ε = %v)", x[1], c.eps, want, c.eps)
			}
		})
	}
}
