package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/secondorder"
)

// evalRow is one evaluation of a run on the full training and held-out
// sets; Seconds counts optimizer time only, not evaluations.
type evalRow struct {
	Step                 int
	Seconds              float64
	TrainLoss, TestLoss  float64
	TrainAcc, TestAcc    float64
	LearningRate, Lambda float64
}

// result is one run of one optimizer.
type result struct {
	optimizer string
	lr        float64 // tuned learning rate; 0 for K-FAC and Hessian-free
	rows      []evalRow
	// reached is set once an evaluation finds the training loss at or
	// below the target: stepsToTarget is that step, secondsToTarget its
	// optimizer time.
	reached         bool
	stepsToTarget   int
	secondsToTarget float64
	bestTrain       float64
	steps           int
	seconds         float64
	diverged        string
}

func (r *result) label() string {
	if r.lr > 0 {
		return fmt.Sprintf("%s lr=%g", r.optimizer, r.lr)
	}
	return r.optimizer
}

func (r *result) last() evalRow { return r.rows[len(r.rows)-1] }

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
	case "kfac":
		return optimizer(secondorder.NewKFAC(p.model, &secondorder.KFACSettings{
			Damping:         c.damping,
			Factors:         c.factors,
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

// tuneEvalEvery spaces the evaluations of tuning runs, which need only the
// lowest training loss reached: evaluating the whole training set costs
// about two steps.
const tuneEvalEvery = 50

// train runs optimizer name from the problem's initial parameters for the
// step budget, evaluating the training and held-out losses every
// c.evalEvery steps, and ends once the training loss reaches target (NaN:
// no target). A tuning run (prog == nil) evaluates the training loss only,
// every tuneEvalEvery steps.
func train(c *config, p *problem, name string, lr, target float64, prog *progress) (*result, error) {
	opt, err := newOptimizer(c, p, name, lr)
	if err != nil {
		return nil, err
	}
	theta := append([]float64(nil), p.theta0...)
	batches, err := data.NewBatches(p.train, c.batch, rand.New(rand.NewPCG(c.seed, 3)))
	if err != nil {
		return nil, err
	}
	batches.DropLast = p.train.Len() > c.batch
	r := &result{optimizer: name, lr: lr, bestTrain: math.Inf(1)}
	evalTape := nn.NewTape(p.model.Net, p.model.Loss)
	var bar *runProgress
	every := tuneEvalEvery
	if prog != nil {
		bar = prog.start(r.label(), c.steps)
		every = c.evalEvery
	}
	var clock time.Duration
	evaluate := func(step int) bool {
		row := evalRow{Step: step, Seconds: clock.Seconds(), LearningRate: math.NaN(), Lambda: damping(c, opt)}
		if lr > 0 {
			row.LearningRate = lr
		}
		row.TrainLoss, row.TrainAcc = p.loss(evalTape, theta, p.train)
		row.TestLoss, row.TestAcc = math.NaN(), math.NaN()
		if bar != nil {
			row.TestLoss, row.TestAcc = p.loss(evalTape, theta, p.test)
		}
		r.rows = append(r.rows, row)
		r.bestTrain = math.Min(r.bestTrain, row.TrainLoss)
		if !r.reached && row.TrainLoss <= target {
			r.reached, r.stepsToTarget, r.secondsToTarget = true, step, row.Seconds
		}
		if bar != nil {
			bar.update(step, row.TrainLoss)
		}
		if math.IsNaN(row.TrainLoss) || math.IsInf(row.TrainLoss, 0) {
			r.diverged = fmt.Sprintf("training loss %v at step %d", row.TrainLoss, step)
			return false
		}
		return !r.reached
	}
	more := evaluate(0) // false when θ₀ already meets the target
	for step := 1; more && step <= c.steps; step++ {
		// Next reports false once at the end of an epoch; the call after
		// it starts the next epoch.
		if !batches.Next() {
			if !batches.Next() {
				return nil, fmt.Errorf("no batches")
			}
		}
		b := curvature.Batch{X: batches.X(), Y: batches.Y()}
		t0 := time.Now()
		_, err := opt.Step(theta, b)
		clock += time.Since(t0)
		r.steps, r.seconds = step, clock.Seconds()
		if err != nil {
			r.diverged = err.Error()
			evaluate(step)
			break
		}
		if step%every == 0 || step == c.steps {
			if !evaluate(step) {
				break
			}
		}
	}
	if bar != nil {
		bar.finish(r)
	}
	return r, nil
}

// tune runs every learning rate of the grid, two at a time, for the whole
// budget and returns the run with the lowest training loss reached. A run
// that diverges loses.
func tune(c *config, p *problem, name string, grid []float64, prog *progress) (*result, []*result, error) {
	all := make([]*result, len(grid))
	errs := make([]error, len(grid))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	prog.note(fmt.Sprintf("tuning %s over learning rates %v (%d steps each, two runs at a time)", name, grid, c.steps))
	for i, lr := range grid {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			all[i], errs[i] = train(c, p, name, lr, math.NaN(), nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	sorted := append([]*result(nil), all...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].bestTrain < sorted[j].bestTrain })
	return sorted[0], all, nil
}

// baselines names the first-order baselines that set the target.
var baselines = map[string]bool{"adam": true, "sgd": true}

// bestBaseline returns the lowest training loss a tuned first-order
// baseline reached, which may be 0, and false when none did (every one
// diverged).
func bestBaseline(tuned []*result) (float64, bool) {
	best, ok := math.Inf(1), false
	for _, r := range tuned {
		if baselines[r.optimizer] && r.diverged == "" && r.bestTrain <= best {
			best, ok = r.bestTrain, true
		}
	}
	return best, ok
}
