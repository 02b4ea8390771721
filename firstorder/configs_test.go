package firstorder

import "testing"

// config is one optimizer with settings that descend the test quadratic in
// a few hundred steps; the list covers every optimizer and variant.
type config struct {
	name  string
	build func(n int) (Optimizer, error)
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
