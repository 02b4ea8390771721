package tune

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/secondorder"
)

// A Bench is a problem and a budget: every run starts from Theta0 and
// draws its batches with the same seed, so the runs differ by their
// optimizer only.
type Bench struct {
	// Name names the data in the plots' titles.
	Name        string
	Model       *curvature.Model
	Train, Test *data.Set
	Theta0      []float64

	Batch, Steps int
	// EvalEvery is the number of steps between evaluations of the
	// training and held-out loss in a final run (prog given to Run).
	EvalEvery int
	// Seed seeds the batches.
	Seed uint64

	// New builds optimizer name; lr is the learning rate of the methods
	// that have one (0 for those that find their own step lengths).
	New func(name string, lr float64) (secondorder.Optimizer, error)
	// Damping returns the damping λ an optimizer records in runs.csv, NaN
	// for those without one. Nil means NaN for all.
	Damping func(secondorder.Optimizer) float64

	// Metric is a second figure of the evaluations beside the loss.
	Metric Metric
}

// A Metric is a mean over the rows of a set of a per-row figure of the
// network's outputs, such as the accuracy of a classifier or the squared
// error of a reconstruction.
type Metric struct {
	// Name names the columns train_Name and test_Name of runs.csv.
	Name string
	// Head heads the table's columns "train Head" and "held-out Head",
	// which are printed when Show is set, with Format (as "%.3f").
	Head, Format string
	Show         bool
	// Sum returns the sum over the rows of outputs z (targets y) of the
	// per-row figure. Nil means the figure is NaN.
	Sum func(z, y *mat.Dense) float64
}

// Row is one evaluation of a run: the training and held-out loss and
// metric at the parameters after Step steps, Seconds of optimizer time.
type Row struct {
	Step                    int
	Seconds                 float64
	TrainLoss, TestLoss     float64
	TrainMetric, TestMetric float64
	LearningRate, Lambda    float64
}

// Result is one run of one optimizer.
type Result struct {
	Optimizer string
	LR        float64 // the learning rate; 0 for methods without one
	Rows      []Row
	// Reached is set once an evaluation finds the training loss at or
	// below the target: StepsToTarget is that step, SecondsToTarget its
	// optimizer time.
	Reached         bool
	StepsToTarget   int
	SecondsToTarget float64
	BestTrain       float64 // the lowest training loss evaluated
	Steps           int     // steps taken
	Seconds         float64 // optimizer time of all of them
	Diverged        string  // why the run stopped early, if it did
	// Theta holds the parameters at the end of the run.
	Theta []float64
}

// Label names the run: the optimizer and its learning rate, if it has one.
func (r *Result) Label() string {
	if r.LR > 0 {
		return fmt.Sprintf("%s lr=%g", r.Optimizer, r.LR)
	}
	return r.Optimizer
}

// Last returns the run's last evaluation.
func (r *Result) Last() Row { return r.Rows[len(r.Rows)-1] }

// TuneEvalEvery spaces the evaluations of tuning runs, which need only
// the lowest training loss reached: evaluating the whole training set
// costs several steps.
const TuneEvalEvery = 50

// EvalRows is the most rows an evaluation pushes through the network at
// once: larger sets are evaluated in chunks, so that a 60,000-row
// training set does not take gigabytes of activations.
const EvalRows = 2048

// Evaluate returns the mean loss and the mean metric (NaN without one) of
// θ on set s, through the tape t.
func (b *Bench) Evaluate(t *nn.Tape, theta []float64, s *data.Set) (loss, metric float64) {
	n := s.Len()
	if n <= EvalRows {
		return b.evaluateRows(t, theta, s.X, s.Y, n)
	}
	var sumLoss, sumMetric float64
	_, dx := s.X.Dims()
	_, dy := s.Y.Dims()
	for i := 0; i < n; i += EvalRows {
		j := min(i+EvalRows, n)
		l, m := b.evaluateRows(t, theta, s.X.Slice(i, j, 0, dx).(*mat.Dense), s.Y.Slice(i, j, 0, dy).(*mat.Dense), j-i)
		sumLoss += l * float64(j-i)
		sumMetric += m * float64(j-i)
	}
	return sumLoss / float64(n), sumMetric / float64(n)
}

func (b *Bench) evaluateRows(t *nn.Tape, theta []float64, x, y *mat.Dense, n int) (loss, metric float64) {
	z := t.Forward(theta, x)
	loss = t.LossValue(y)
	if b.Metric.Sum == nil {
		return loss, math.NaN()
	}
	return loss, b.Metric.Sum(z, y) / float64(n)
}

// damping returns the λ of opt to record.
func (b *Bench) damping(opt secondorder.Optimizer) float64 {
	if b.Damping == nil {
		return math.NaN()
	}
	return b.Damping(opt)
}

// Run runs optimizer name from Theta0 for the step budget, evaluating
// the training and held-out losses every EvalEvery steps, and ends once
// the training loss reaches target (NaN: no target). A tuning run (prog ==
// nil) evaluates the training loss only, every TuneEvalEvery steps.
func (b *Bench) Run(name string, lr, target float64, prog *Progress) (*Result, error) {
	opt, err := b.New(name, lr)
	if err != nil {
		return nil, err
	}
	theta := append([]float64(nil), b.Theta0...)
	batches, err := data.NewBatches(b.Train, b.Batch, rand.New(rand.NewPCG(b.Seed, 3)))
	if err != nil {
		return nil, err
	}
	batches.DropLast = b.Train.Len() > b.Batch
	r := &Result{Optimizer: name, LR: lr, BestTrain: math.Inf(1), Theta: theta}
	evalTape := nn.NewTape(b.Model.Net, b.Model.Loss)
	var bar *runProgress
	every := TuneEvalEvery
	if prog != nil {
		bar = prog.start(r.Label(), b.Steps)
		every = b.EvalEvery
	}
	var clock time.Duration
	evaluate := func(step int) bool {
		row := Row{Step: step, Seconds: clock.Seconds(), LearningRate: math.NaN(), Lambda: b.damping(opt)}
		if lr > 0 {
			row.LearningRate = lr
		}
		row.TrainLoss, row.TrainMetric = b.Evaluate(evalTape, theta, b.Train)
		row.TestLoss, row.TestMetric = math.NaN(), math.NaN()
		if bar != nil {
			row.TestLoss, row.TestMetric = b.Evaluate(evalTape, theta, b.Test)
		}
		r.Rows = append(r.Rows, row)
		r.BestTrain = math.Min(r.BestTrain, row.TrainLoss)
		if !r.Reached && row.TrainLoss <= target {
			r.Reached, r.StepsToTarget, r.SecondsToTarget = true, step, row.Seconds
		}
		if bar != nil {
			bar.update(step, row.TrainLoss)
		}
		if math.IsNaN(row.TrainLoss) || math.IsInf(row.TrainLoss, 0) {
			r.Diverged = fmt.Sprintf("training loss %v at step %d", row.TrainLoss, step)
			return false
		}
		return !r.Reached
	}
	more := evaluate(0) // false when θ₀ already meets the target
	for step := 1; more && step <= b.Steps; step++ {
		// Next reports false once at the end of an epoch; the call after
		// it starts the next epoch.
		if !batches.Next() {
			if !batches.Next() {
				return nil, fmt.Errorf("no batches")
			}
		}
		batch := curvature.Batch{X: batches.X(), Y: batches.Y()}
		t0 := time.Now()
		_, err := opt.Step(theta, batch)
		clock += time.Since(t0)
		r.Steps, r.Seconds = step, clock.Seconds()
		if err != nil {
			r.Diverged = err.Error()
			evaluate(step)
			break
		}
		if step%every == 0 || step == b.Steps {
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

// Tune runs every learning rate of the grid, two at a time, for the whole
// budget and returns the run with the lowest training loss reached, and
// all of them in the grid's order. A run that diverges loses.
func (b *Bench) Tune(name string, grid []float64, prog *Progress) (best *Result, all []*Result, err error) {
	all = make([]*Result, len(grid))
	errs := make([]error, len(grid))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	prog.Note(fmt.Sprintf("tuning %s over learning rates %v (%d steps each, two runs at a time)", name, grid, b.Steps))
	for i, lr := range grid {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			all[i], errs[i] = b.Run(name, lr, math.NaN(), nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	sorted := append([]*Result(nil), all...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].BestTrain < sorted[j].BestTrain })
	return sorted[0], all, nil
}

// IsBaseline reports whether optimizer name is a first-order baseline,
// one that can set the target.
func IsBaseline(name string) bool { return name == "adam" || name == "sgd" }

// BestBaseline returns the lowest training loss a tuned first-order
// baseline reached, which may be 0, and false when none did (every one
// diverged).
func BestBaseline(tuned []*Result) (float64, bool) {
	best, ok := math.Inf(1), false
	for _, r := range tuned {
		if IsBaseline(r.Optimizer) && r.Diverged == "" && r.BestTrain <= best {
			best, ok = r.BestTrain, true
		}
	}
	return best, ok
}

// A Plan is what a comparison runs: the optimizers in order, the learning
// rates of each (a grid of several is tuned; one rate is used as it is; a
// method without rates finds its own step lengths), and the target, when
// one is given.
type Plan struct {
	Optimizers []string
	Grid       func(name string) []float64
	// Flag names the command-line flag of an optimizer's grid, for the
	// note on a best rate at its edge.
	Flag      func(name string) string
	Target    float64
	TargetSet bool
}

// Race tunes each optimizer of the plan with a grid of several rates (or
// any baseline, when the target is not given), printing its grid to w;
// sets the target to the best training loss a tuned baseline reached,
// unless the plan gives it, and prints it with every digit, so that
// runs.csv can be checked against it; then runs every optimizer, at its
// tuned rate, to the target, and prints the table of the runs
// (PrintTable).
func (b *Bench) Race(w io.Writer, prog *Progress, p Plan) (target float64, results []*Result, err error) {
	var tuned []*Result
	for _, name := range p.Optimizers {
		if grid := p.Grid(name); len(grid) > 1 || (!p.TargetSet && IsBaseline(name)) {
			best, all, err := b.Tune(name, grid, prog)
			if err != nil {
				return 0, nil, err
			}
			PrintTuning(w, name, p.Flag(name), all, best)
			tuned = append(tuned, best)
		}
	}
	target = p.Target
	if !p.TargetSet {
		var ok bool
		if target, ok = BestBaseline(tuned); !ok {
			return 0, nil, errors.New("every first-order baseline diverged at every learning rate, so none sets the target: give -target, or lower -adam-lrs or -sgd-lrs")
		}
		fmt.Fprintf(w, "target training loss %s: the best a tuned first-order baseline reaches in %d steps\n",
			strconv.FormatFloat(target, 'g', -1, 64), b.Steps)
	}
	for _, name := range p.Optimizers {
		lr := 0.0
		if grid := p.Grid(name); len(grid) == 1 {
			lr = grid[0]
		}
		for _, r := range tuned {
			if r.Optimizer == name {
				lr = r.LR
			}
		}
		r, err := b.Run(name, lr, target, prog)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	b.PrintTable(w, target, results)
	return target, results, nil
}

// ParseFlags parses args with fs, refusing stray arguments, and returns
// the value of its -seed flag (given as seed) as a seed, and whether -target
// was given.
func ParseFlags(fs *flag.FlagSet, args []string, seed *int64) (uint64, bool, error) {
	if err := fs.Parse(args); err != nil {
		return 0, false, err
	}
	if fs.NArg() > 0 {
		return 0, false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *seed < 0 {
		return 0, false, fmt.Errorf("-seed %d is negative", *seed)
	}
	targetSet := false
	fs.Visit(func(f *flag.Flag) { targetSet = targetSet || f.Name == "target" })
	return uint64(*seed), targetSet, nil
}
