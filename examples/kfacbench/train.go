package main

import (
	"fmt"
	"math"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/internal/tune"
	"github.com/curvkit/curvkit/secondorder"
)

// newOptimizer builds optimizer name; lr is the learning rate of the
// first-order and natural-gradient methods (K-FAC and Hessian-free find
// their own step lengths).
func newOptimizer(c *config, p *problem, name string, lr float64) (secondorder.Optimizer, error) {
	P := p.model.Net.NumParams()
	switch name {
	case "adam":
		s := firstorder.DefaultAdamSettings()
		s.LR = lr
		opt, err := firstorder.NewAdam(P, s)
		if err != nil {
			return nil, err
		}
		return optimizer(secondorder.NewFirstOrder(p.model, opt))
	case "sgd":
		opt, err := firstorder.NewSGD(P, firstorder.SGDSettings{LR: lr, Momentum: c.momentum})
		if err != nil {
			return nil, err
		}
		return optimizer(secondorder.NewFirstOrder(p.model, opt))
	case "kfac", "kfac-reduce":
		sharing := approx.Expand
		if name == "kfac-reduce" {
			sharing = approx.Reduce
		}
		return optimizer(secondorder.NewKFAC(p.model, &secondorder.KFACSettings{
			Damping:         c.damping,
			Factors:         c.factors,
			WeightSharing:   sharing,
			Decay:           c.decay,
			StatsInterval:   c.statsInterval,
			StatsFraction:   c.statsFraction,
			ModelFraction:   c.modelFraction,
			InverseInterval: c.inverseInterval,
			DampingInterval: c.dampingInterval,
			Seed:            c.seed,
		}))
	case "hf":
		return optimizer(secondorder.NewHessianFree(p.model, &secondorder.HessianFreeSettings{MaxCG: 50, CurvatureFraction: c.hfFraction}))
	case "ng-diag", "ng-block", "ng-kfac", "ng-ekfac":
		ks := &approx.KFACSettings{Factors: c.factors, Seed: c.seed, Damping: approx.FactoredDamping, Solver: approx.CholeskySolver}
		curv, interval := secondorder.DiagonalCurvature(p.model, curvature.Fisher, nil), 1
		switch name {
		case "ng-block":
			curv, interval = secondorder.BlockDiagonalCurvature(p.model, curvature.Fisher, nil), c.inverseInterval
		case "ng-kfac":
			curv, interval = secondorder.KFACCurvature(p.model, ks), c.inverseInterval
		case "ng-ekfac":
			curv, interval = secondorder.EKFACCurvature(p.model, &approx.KFACSettings{Factors: c.factors, Seed: c.seed}), c.inverseInterval
		}
		return optimizer(secondorder.NewNaturalGradient(p.model, &secondorder.NaturalGradientSettings{
			LearningRate: lr, Damping: c.ngDamping, Curvature: curv, UpdateInterval: interval, Momentum: c.momentum,
		}))
	}
	return nil, fmt.Errorf("unknown optimizer %q", name)
}

// optimizer returns a constructor's result as an Optimizer, nil (not a
// typed nil) on error.
func optimizer[T secondorder.Optimizer](opt T, err error) (secondorder.Optimizer, error) {
	if err != nil {
		return nil, err
	}
	return opt, nil
}

// damping returns the optimizer's damping λ for runs.csv: the adapted one
// of K-FAC and Hessian-free, the fixed one of natural gradient, NaN for
// first-order methods, which have none.
func damping(c *config, opt secondorder.Optimizer) float64 {
	switch o := opt.(type) {
	case interface{ Lambda() float64 }:
		return o.Lambda()
	case *secondorder.NaturalGradient:
		return c.ngDamping
	}
	return math.NaN()
}

// bench returns the benchmark of c's runs on p.
func bench(c *config, p *problem) *tune.Bench {
	acc := tune.Metric{Name: "accuracy", Head: "acc", Format: "%.3f", Show: p.classify}
	if p.classify {
		acc.Sum = correct
	}
	return &tune.Bench{
		Name: p.name, Model: p.model, Train: p.train, Test: p.test, Theta0: p.theta0,
		Batch: c.batch, Steps: c.steps, EvalEvery: c.evalEvery, Seed: c.seed,
		New:     func(name string, lr float64) (secondorder.Optimizer, error) { return newOptimizer(c, p, name, lr) },
		Damping: func(opt secondorder.Optimizer) float64 { return damping(c, opt) },
		Metric:  acc,
	}
}
