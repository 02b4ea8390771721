package firstorder

import (
	"strings"
	"testing"
)

// config is one optimizer with settings that descend the test quadratic in
// a few hundred steps (ascend its negation, with Maximize); the list covers
// every optimizer and variant, parameter groups and the maximize flag.
type config struct {
	name  string
	build func(n int) (Optimizer, error)
}

// maximizes reports whether the configuration has Maximize set, by its name.
func (c config) maximizes() bool { return strings.HasSuffix(c.name, "-maximize") }

// grouped gives opt three parameter groups: the first third with half the
// learning rate and no weight decay, the second with twice the decay, the
// rest as the settings have it.
func grouped(opt Optimizer, err error) (Optimizer, error) {
	if err != nil {
		return nil, err
	}
	n := opt.Len()
	a, b := n/3, 2*n/3
	return opt, opt.(interface{ SetGroups([]Group) error }).SetGroups([]Group{
		{Name: "half rate, no decay", Spans: []Span{{0, a}}, LRScale: 0.5},
		{Name: "double decay", Spans: []Span{{a, b}}, WeightDecayScale: 2},
		{Name: "rest", Spans: []Span{{b, n}}, WeightDecayScale: 1},
	})
}

func configs() []config {
	return []config{
		{"GD", func(n int) (Optimizer, error) { return NewSGD(n, SGDSettings{LR: 0.05}) }},
		{"GD-weight-decay", func(n int) (Optimizer, error) { return NewSGD(n, SGDSettings{LR: 0.05, WeightDecay: 1e-3}) }},
		{"SGD-momentum", func(n int) (Optimizer, error) { return NewSGD(n, SGDSettings{LR: 0.02, Momentum: 0.9}) }},
		{"SGD-momentum-dampening-wd", func(n int) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: 0.02, Momentum: 0.9, Dampening: 0.5, WeightDecay: 1e-3})
		}},
		{"SGD-nesterov", func(n int) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: 0.02, Momentum: 0.9, Nesterov: true})
		}},
		{"Adagrad", func(n int) (Optimizer, error) { return NewAdagrad(n, AdagradSettings{LR: 0.5}) }},
		{"Adagrad-decay-init-wd", func(n int) (Optimizer, error) {
			return NewAdagrad(n, AdagradSettings{LR: 0.5, LRDecay: 1e-3, InitialAccumulator: 0.1, WeightDecay: 1e-3})
		}},
		{"RMSprop", func(n int) (Optimizer, error) {
			s := DefaultRMSpropSettings()
			s.LR = 0.03
			return NewRMSprop(n, s)
		}},
		{"RMSprop-centered", func(n int) (Optimizer, error) {
			s := DefaultRMSpropSettings()
			s.LR = 0.01
			s.Centered = true
			return NewRMSprop(n, s)
		}},
		{"RMSprop-momentum-wd", func(n int) (Optimizer, error) {
			s := DefaultRMSpropSettings()
			s.LR = 0.005
			s.Momentum = 0.8
			s.WeightDecay = 1e-3
			return NewRMSprop(n, s)
		}},
		{"RMSprop-centered-momentum", func(n int) (Optimizer, error) {
			s := DefaultRMSpropSettings()
			s.LR = 0.002
			s.Momentum = 0.8
			s.Centered = true
			s.Alpha = 0.9
			return NewRMSprop(n, s)
		}},
		{"Adam", func(n int) (Optimizer, error) {
			s := DefaultAdamSettings()
			s.LR = 0.05
			return NewAdam(n, s)
		}},
		{"Adam-amsgrad", func(n int) (Optimizer, error) {
			s := DefaultAdamSettings()
			s.LR = 0.05
			s.AMSGrad = true
			return NewAdam(n, s)
		}},
		{"Adam-L2", func(n int) (Optimizer, error) {
			s := DefaultAdamSettings()
			s.LR = 0.05
			s.WeightDecay = 1e-3
			return NewAdam(n, s)
		}},
		{"AdamW", func(n int) (Optimizer, error) {
			s := DefaultAdamWSettings()
			s.LR = 0.05
			return NewAdamW(n, s)
		}},
		{"AdamW-amsgrad", func(n int) (Optimizer, error) {
			s := DefaultAdamWSettings()
			s.LR = 0.05
			s.AMSGrad = true
			return NewAdamW(n, s)
		}},
		{"Adamax", func(n int) (Optimizer, error) {
			s := DefaultAdamaxSettings()
			s.LR = 0.05
			return NewAdamax(n, s)
		}},
		{"NAdam", func(n int) (Optimizer, error) {
			s := DefaultNAdamSettings()
			s.LR = 0.05
			return NewNAdam(n, s)
		}},
		{"RAdam", func(n int) (Optimizer, error) {
			s := DefaultRAdamSettings()
			s.LR = 0.05
			return NewRAdam(n, s)
		}},
		{"AdaBelief", func(n int) (Optimizer, error) {
			s := DefaultAdaBeliefSettings()
			s.LR = 0.05
			return NewAdaBelief(n, s)
		}},
		{"AdaBelief-rectify-amsgrad", func(n int) (Optimizer, error) {
			s := DefaultAdaBeliefSettings()
			s.LR = 0.05
			s.Rectify = true
			s.AMSGrad = true
			return NewAdaBelief(n, s)
		}},
		{"AdaBelief-rectify-nowarmup-decay", func(n int) (Optimizer, error) {
			s := DefaultAdaBeliefSettings()
			s.LR = 0.05
			s.Rectify = true
			s.NoSGDWarmup = true
			s.WeightDecay = 1e-3
			return NewAdaBelief(n, s)
		}},
		{"AdaBelief-L2", func(n int) (Optimizer, error) {
			s := DefaultAdaBeliefSettings()
			s.LR = 0.05
			s.WeightDecay = 1e-3
			s.CoupledWeightDecay = true
			return NewAdaBelief(n, s)
		}},
		{"Adadelta", func(n int) (Optimizer, error) {
			s := DefaultAdadeltaSettings()
			s.LR = 10
			return NewAdadelta(n, s)
		}},
		{"Adadelta-wd", func(n int) (Optimizer, error) {
			s := DefaultAdadeltaSettings()
			s.LR, s.WeightDecay = 10, 1e-3
			return NewAdadelta(n, s)
		}},
		{"Rprop", func(n int) (Optimizer, error) { return NewRprop(n, DefaultRpropSettings()) }},
		{"ASGD", func(n int) (Optimizer, error) {
			s := DefaultASGDSettings()
			s.LR = 0.05
			return NewASGD(n, s)
		}},
		{"ASGD-averaging-wd", func(n int) (Optimizer, error) {
			s := DefaultASGDSettings()
			s.LR, s.Lambda, s.T0, s.WeightDecay = 0.05, 1e-3, 5, 1e-3
			return NewASGD(n, s)
		}},
		{"SGD-momentum-groups", func(n int) (Optimizer, error) {
			return grouped(NewSGD(n, SGDSettings{LR: 0.02, Momentum: 0.9, WeightDecay: 1e-3}))
		}},
		{"Adam-groups", func(n int) (Optimizer, error) { return grouped(NewAdam(n, adamLR(0.05))) }},
		{"AdamW-groups", func(n int) (Optimizer, error) {
			s := DefaultAdamWSettings()
			s.LR = 0.05
			return grouped(NewAdamW(n, s))
		}},
		{"Rprop-groups", func(n int) (Optimizer, error) { return grouped(NewRprop(n, DefaultRpropSettings())) }},
		{"SGD-maximize", func(n int) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: 0.02, Momentum: 0.9, WeightDecay: 1e-3, Maximize: true})
		}},
		{"Adam-maximize", func(n int) (Optimizer, error) {
			s := adamLR(0.05)
			s.Maximize = true
			return NewAdam(n, s)
		}},
		{"Scheduled-Clipped-Adam", func(n int) (Optimizer, error) {
			s := DefaultAdamSettings()
			s.LR = 0.1
			opt, err := NewAdam(n, s)
			if err != nil {
				return nil, err
			}
			c, err := NewClipped(opt, 1)
			if err != nil {
				return nil, err
			}
			return NewScheduled(c, Warmup{Steps: 10, Then: Cosine{Steps: 400, Min: 1e-3}})
		}},
	}
}

func mustBuild(t testing.TB, c config, n int) Optimizer {
	t.Helper()
	opt, err := c.build(n)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return opt
}
