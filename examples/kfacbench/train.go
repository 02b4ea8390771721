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
	lr        float64 // tuned learning rate; 0 for K-FAC
	rows      []evalRow
	// stepsToTarget is the first evaluated step at or below the target
	// training loss (0: never), secondsToTarget its optimizer time.
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

// stepper takes one training step on a batch.
type stepper interface {
	step(theta []float64, b curvature.Batch) error
	// lambda is the damping of the last step (0 for first-order methods).
	lambda() float64
}

// firstOrder steps a firstorder.Optimizer with the batch gradient.
type firstOrder struct {
	opt  firstorder.Optimizer
	tape *nn.Tape
	grad []float64
}

func (f *firstOrder) step(theta []float64, b curvature.Batch) error {
	f.tape.Forward(theta, b.X)
	f.tape.Backward(f.grad, nil, b.Y)
	return f.opt.Step(theta, f.grad)
}

func (f *firstOrder) lambda() float64 { return 0 }

type kfacStepper struct{ opt *secondorder.KFAC }

func (k kfacStepper) step(theta []float64, b curvature.Batch) error {
	_, err := k.opt.Step(theta, b)
	return err
}

func (k kfacStepper) lambda() float64 { return k.opt.Lambda() }

// hfStepper is Hessian-free, whose damping comes from its record.
type hfStepper struct {
	opt *secondorder.HessianFree
	lam float64
}

func (h *hfStepper) step(theta []float64, b curvature.Batch) error {
	rec, err := h.opt.Step(theta, b)
	h.lam = rec.NextLambda
	return err
}

func (h *hfStepper) lambda() float64 { return h.lam }

// ngStepper is natural-gradient descent with a fixed damping.
type ngStepper struct {
	opt *secondorder.NaturalGradient
	lam float64
}

func (n ngStepper) step(theta []float64, b curvature.Batch) error {
	_, err := n.opt.Step(theta, b)
	return err
}

func (n ngStepper) lambda() float64 { return n.lam }

func newStepper(c *config, p *problem, name string, lr float64) (stepper, error) {
	P := p.model.Net.NumParams()
	fo := func(opt firstorder.Optimizer, err error) (stepper, error) {
		if err != nil {
			return nil, err
		}
		return &firstOrder{opt: opt, tape: nn.NewTape(p.model.Net, p.model.Loss), grad: make([]float64, P)}, nil
	}
	switch name {
	case "adam":
		s := firstorder.DefaultAdamSettings()
		s.LR = lr
		return fo(firstorder.NewAdam(P, s))
	case "sgd":
		return fo(firstorder.NewSGD(P, firstorder.SGDSettings{LR: lr, Momentum: c.momentum}))
	case "kfac":
		opt, err := secondorder.NewKFAC(p.model, &secondorder.KFACSettings{
			Damping:         c.damping,
			Factors:         c.factors,
			StatsInterval:   c.statsInterval,
			StatsFraction:   c.statsFraction,
			ModelFraction:   c.modelFraction,
			InverseInterval: c.inverseInterval,
			DampingInterval: c.dampingInterval,
			Seed:            c.seed,
		})
		if err != nil {
			return nil, err
		}
		return kfacStepper{opt}, nil
	case "hf":
		opt, err := secondorder.NewHessianFree(p.model, &secondorder.HessianFreeSettings{MaxCG: 50, CurvatureFraction: c.hfFraction})
		if err != nil {
			return nil, err
		}
		return &hfStepper{opt: opt}, nil
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
		opt, err := secondorder.NewNaturalGradient(p.model, &secondorder.NaturalGradientSettings{
			LearningRate: lr, Damping: c.ngDamping, Curvature: curv, UpdateInterval: interval, Momentum: c.momentum,
		})
		if err != nil {
			return nil, err
		}
		return ngStepper{opt: opt, lam: c.ngDamping}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q", name)
}

// tuneEvalEvery spaces the evaluations of tuning runs, which need only the
// lowest training loss reached: evaluating the whole training set costs
// about two steps.
const tuneEvalEvery = 50

// train runs optimizer name from the problem's initial parameters for the
// step budget, evaluating the training and held-out losses every
// c.evalEvery steps. With stop it ends once the training loss reaches
// target. A tuning run (prog == nil) evaluates the training loss only,
// every tuneEvalEvery steps.
func train(c *config, p *problem, name string, lr, target float64, stop bool, prog *progress) (*result, error) {
	s, err := newStepper(c, p, name, lr)
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
		row := evalRow{Step: step, Seconds: clock.Seconds(), LearningRate: lr, Lambda: s.lambda()}
		row.TrainLoss, row.TrainAcc = p.loss(evalTape, theta, p.train)
		if bar != nil {
			row.TestLoss, row.TestAcc = p.loss(evalTape, theta, p.test)
		}
		r.rows = append(r.rows, row)
		r.bestTrain = math.Min(r.bestTrain, row.TrainLoss)
		if target > 0 && r.stepsToTarget == 0 && row.TrainLoss <= target {
			r.stepsToTarget, r.secondsToTarget = step, row.Seconds
		}
		if bar != nil {
			bar.update(step, row.TrainLoss)
		}
		if math.IsNaN(row.TrainLoss) || math.IsInf(row.TrainLoss, 0) {
			r.diverged = fmt.Sprintf("training loss %v at step %d", row.TrainLoss, step)
			return false
		}
		return !(stop && r.stepsToTarget > 0)
	}
	evaluate(0)
	for step := 1; step <= c.steps; step++ {
		// Next reports false once at the end of an epoch; the call after
		// it starts the next epoch.
		if !batches.Next() {
			if !batches.Next() {
				return nil, fmt.Errorf("no batches")
			}
		}
		b := curvature.Batch{X: batches.X(), Y: batches.Y()}
		t0 := time.Now()
		err := s.step(theta, b)
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
			all[i], errs[i] = train(c, p, name, lr, 0, false, nil)
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

// firstOrder names the first-order baselines that set the target.
var baselines = map[string]bool{"adam": true, "sgd": true}

// bestBaseline returns the lowest training loss a tuned first-order
// baseline reached.
func bestBaseline(tuned []*result) float64 {
	best := 0.0
	for _, r := range tuned {
		if baselines[r.optimizer] && r.diverged == "" && (best == 0 || r.bestTrain < best) {
			best = r.bestTrain
		}
	}
	return best
}
