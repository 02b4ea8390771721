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
		{"RMSprop", func(n int) (Optimizer, error) { return NewRMSprop(n, RMSpropSettings{LR: 0.03}) }},
		{"RMSprop-centered", func(n int) (Optimizer, error) {
			return NewRMSprop(n, RMSpropSettings{LR: 0.01, Centered: true})
		}},
		{"RMSprop-momentum-wd", func(n int) (Optimizer, error) {
			return NewRMSprop(n, RMSpropSettings{LR: 0.005, Momentum: 0.8, WeightDecay: 1e-3})
		}},
		{"RMSprop-centered-momentum", func(n int) (Optimizer, error) {
			return NewRMSprop(n, RMSpropSettings{LR: 0.002, Momentum: 0.8, Centered: true, Alpha: 0.9})
		}},
		{"Adam", func(n int) (Optimizer, error) { return NewAdam(n, AdamSettings{LR: 0.05}) }},
		{"Adam-amsgrad", func(n int) (Optimizer, error) { return NewAdam(n, AdamSettings{LR: 0.05, AMSGrad: true}) }},
		{"Adam-L2", func(n int) (Optimizer, error) { return NewAdam(n, AdamSettings{LR: 0.05, WeightDecay: 1e-3}) }},
		{"AdamW", func(n int) (Optimizer, error) { return NewAdamW(n, AdamWSettings{LR: 0.05}) }},
		{"AdamW-amsgrad", func(n int) (Optimizer, error) { return NewAdamW(n, AdamWSettings{LR: 0.05, AMSGrad: true}) }},
		{"Adamax", func(n int) (Optimizer, error) { return NewAdamax(n, AdamaxSettings{LR: 0.05}) }},
		{"NAdam", func(n int) (Optimizer, error) { return NewNAdam(n, NAdamSettings{LR: 0.05}) }},
		{"RAdam", func(n int) (Optimizer, error) { return NewRAdam(n, RAdamSettings{LR: 0.05}) }},
		{"AdaBelief", func(n int) (Optimizer, error) { return NewAdaBelief(n, AdaBeliefSettings{LR: 0.05}) }},
		{"AdaBelief-rectify-amsgrad", func(n int) (Optimizer, error) {
			return NewAdaBelief(n, AdaBeliefSettings{LR: 0.05, Rectify: true, AMSGrad: true})
		}},
		{"AdaBelief-rectify-nowarmup-decay", func(n int) (Optimizer, error) {
			return NewAdaBelief(n, AdaBeliefSettings{LR: 0.05, Rectify: true, NoSGDWarmup: true, WeightDecay: 1e-3})
		}},
		{"AdaBelief-L2", func(n int) (Optimizer, error) {
			return NewAdaBelief(n, AdaBeliefSettings{LR: 0.05, WeightDecay: 1e-3, CoupledWeightDecay: true})
		}},
		{"Scheduled-Clipped-Adam", func(n int) (Optimizer, error) {
			opt, err := NewAdam(n, AdamSettings{LR: 0.1})
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
