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

// with returns the constructor of the optimizer that newOpt builds from the
// settings s as set changes them.
func with[S any, O Optimizer](s S, newOpt func(int, S) (O, error), set func(*S)) func(int) (Optimizer, error) {
	return func(n int) (Optimizer, error) {
		c := s
		set(&c)
		return newOpt(n, c)
	}
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
		{"RMSprop", with(DefaultRMSpropSettings(), NewRMSprop, func(s *RMSpropSettings) { s.LR = 0.03 })},
		{"RMSprop-centered", with(DefaultRMSpropSettings(), NewRMSprop, func(s *RMSpropSettings) { s.LR, s.Centered = 0.01, true })},
		{"RMSprop-momentum-wd", with(DefaultRMSpropSettings(), NewRMSprop, func(s *RMSpropSettings) { s.LR, s.Momentum, s.WeightDecay = 0.005, 0.8, 1e-3 })},
		{"RMSprop-centered-momentum", with(DefaultRMSpropSettings(), NewRMSprop, func(s *RMSpropSettings) { s.LR, s.Momentum, s.Centered, s.Alpha = 0.002, 0.8, true, 0.9 })},
		{"Adam", with(DefaultAdamSettings(), NewAdam, func(s *AdamSettings) { s.LR = 0.05 })},
		{"Adam-amsgrad", with(DefaultAdamSettings(), NewAdam, func(s *AdamSettings) { s.LR, s.AMSGrad = 0.05, true })},
		{"Adam-L2", with(DefaultAdamSettings(), NewAdam, func(s *AdamSettings) { s.LR, s.WeightDecay = 0.05, 1e-3 })},
		{"AdamW", with(DefaultAdamWSettings(), NewAdamW, func(s *AdamWSettings) { s.LR = 0.05 })},
		{"AdamW-amsgrad", with(DefaultAdamWSettings(), NewAdamW, func(s *AdamWSettings) { s.LR, s.AMSGrad = 0.05, true })},
		{"Adamax", with(DefaultAdamaxSettings(), NewAdamax, func(s *AdamaxSettings) { s.LR = 0.05 })},
		{"NAdam", with(DefaultNAdamSettings(), NewNAdam, func(s *NAdamSettings) { s.LR = 0.05 })},
		{"RAdam", with(DefaultRAdamSettings(), NewRAdam, func(s *RAdamSettings) { s.LR = 0.05 })},
		{"AdaBelief", with(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings) { s.LR = 0.05 })},
		{"AdaBelief-rectify-amsgrad", with(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings) { s.LR, s.Rectify, s.AMSGrad = 0.05, true, true })},
		{"AdaBelief-rectify-nowarmup-decay", with(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings) { s.LR, s.Rectify, s.NoSGDWarmup, s.WeightDecay = 0.05, true, true, 1e-3 })},
		{"AdaBelief-L2", with(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings) { s.LR, s.WeightDecay, s.CoupledWeightDecay = 0.05, 1e-3, true })},
		{"Adadelta", with(DefaultAdadeltaSettings(), NewAdadelta, func(s *AdadeltaSettings) { s.LR = 10 })},
		{"Adadelta-wd", with(DefaultAdadeltaSettings(), NewAdadelta, func(s *AdadeltaSettings) { s.LR, s.WeightDecay = 10, 1e-3 })},
		{"Rprop", func(n int) (Optimizer, error) { return NewRprop(n, DefaultRpropSettings()) }},
		{"ASGD", with(DefaultASGDSettings(), NewASGD, func(s *ASGDSettings) { s.LR = 0.05 })},
		{"ASGD-averaging-wd", with(DefaultASGDSettings(), NewASGD, func(s *ASGDSettings) { s.LR, s.Lambda, s.T0, s.WeightDecay = 0.05, 1e-3, 5, 1e-3 })},
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
