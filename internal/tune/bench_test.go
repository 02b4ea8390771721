package tune

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/secondorder"
)

// testBench is a digits autoencoder 64-16-64 on 300 training and 100
// held-out rows, trained by SGD with momentum (a learning rate of 1e308
// diverges), with the squared error of the sigmoid outputs as metric.
func testBench(t *testing.T) *Bench {
	t.Helper()
	digits, err := data.Digits()
	require.NoError(t, err)
	idx := make([]int, 400)
	for i := range idx {
		idx[i] = i
	}
	s := digits.Subset(idx)
	train := &data.Set{X: mat.DenseCopyOf(s.X.Slice(0, 300, 0, 64)), Y: mat.DenseCopyOf(s.X.Slice(0, 300, 0, 64))}
	test := &data.Set{X: mat.DenseCopyOf(s.X.Slice(300, 400, 0, 64)), Y: mat.DenseCopyOf(s.X.Slice(300, 400, 0, 64))}
	net, err := nn.NewMLP([]int{64, 16, 64}, []string{"tanh", "identity"})
	require.NoError(t, err)
	model := &curvature.Model{Net: net, Loss: nn.SigmoidBCE{}}
	theta0 := make([]float64, net.NumParams())
	net.Init(theta0, rand.New(rand.NewPCG(1, 1)))
	return &Bench{
		Name: "digits", Model: model, Train: train, Test: test, Theta0: theta0,
		Batch: 50, Steps: 60, EvalEvery: 10, Seed: 1,
		New: func(name string, lr float64) (secondorder.Optimizer, error) {
			opt, err := firstorder.NewSGD(net.NumParams(), firstorder.SGDSettings{LR: lr, Momentum: 0.9})
			if err != nil {
				return nil, err
			}
			return secondorder.NewFirstOrder(model, opt)
		},
		Metric: Metric{Name: "squared_error", Head: "sq. error", Format: "%.4f", Show: true, Sum: squaredError},
	}
}

// squaredError sums over the rows Σ_k (σ(z_k) − y_k)².
func squaredError(z, y *mat.Dense) float64 {
	r, c := z.Dims()
	var s float64
	for i := 0; i < r; i++ {
		for k := 0; k < c; k++ {
			d := 1/(1+math.Exp(-z.At(i, k))) - y.At(i, k)
			s += d * d
		}
	}
	return s
}

// A run evaluates at step 0 and every EvalEvery steps; its last row is
// the loss of the parameters it returns; a second run with a target taken
// from the first stops at the first evaluation at or below it, with the
// same numbers up to there (same seed, same batches).
func TestRun(t *testing.T) {
	b := testBench(t)
	r, err := b.Run("sgd", 0.3, math.NaN(), NewProgress(io.Discard))
	require.NoError(t, err)
	require.Empty(t, r.Diverged)
	var steps []int
	for _, row := range r.Rows {
		steps = append(steps, row.Step)
	}
	assert.Equal(t, []int{0, 10, 20, 30, 40, 50, 60}, steps)
	assert.False(t, r.Reached, "NaN is no target")
	assert.Equal(t, 60, r.Steps)

	tape := nn.NewTape(b.Model.Net, b.Model.Loss)
	tape.Forward(r.Theta, b.Train.X)
	last := r.Last()
	assert.Equal(t, tape.LossValue(b.Train.Y), last.TrainLoss)
	assert.InDelta(t, squaredError(tape.Z(), b.Train.Y)/300, last.TrainMetric, 1e-12)
	tape.Forward(r.Theta, b.Test.X)
	assert.Equal(t, tape.LossValue(b.Test.Y), last.TestLoss)

	target := r.Rows[3].TrainLoss
	require.Less(t, target, r.Rows[2].TrainLoss, "the loss falls")
	again, err := b.Run("sgd", 0.3, target, NewProgress(io.Discard))
	require.NoError(t, err)
	assert.True(t, again.Reached)
	assert.Equal(t, 30, again.StepsToTarget)
	assert.Equal(t, 30, again.Steps, "the run stops at the target")
	assert.Len(t, again.Rows, 4)
	for i, row := range again.Rows {
		assert.Equal(t, r.Rows[i].TrainLoss, row.TrainLoss, "row %d", i)
	}
}

// Tuning keeps the rate with the lowest training loss reached; a diverged
// run loses, and the target comes from baselines that did not diverge.
func TestTune(t *testing.T) {
	b := testBench(t)
	b.Steps = 20
	grid := []float64{0.01, 0.3, 1e308}
	best, all, err := b.Tune("sgd", grid, NewProgress(io.Discard))
	require.NoError(t, err)
	require.Len(t, all, 3)
	for i, r := range all {
		assert.Equal(t, grid[i], r.LR)
		for _, row := range r.Rows {
			assert.True(t, math.IsNaN(row.TestLoss), "tuning runs evaluate the training loss only")
		}
	}
	// Every TuneEvalEvery steps and at the last: at 0 and 20 here.
	assert.Equal(t, []int{0, 20}, []int{all[0].Rows[0].Step, all[0].Rows[1].Step})
	assert.Len(t, all[0].Rows, 2)
	assert.NotEmpty(t, all[2].Diverged)
	assert.Equal(t, 0.3, best.LR)
	assert.Less(t, best.BestTrain, all[0].BestTrain)

	target, ok := BestBaseline(all)
	assert.True(t, ok)
	assert.Equal(t, best.BestTrain, target)
	_, ok = BestBaseline([]*Result{all[2]})
	assert.False(t, ok, "a diverged baseline sets no target")
	_, ok = BestBaseline([]*Result{{Optimizer: "kfac", BestTrain: 1}})
	assert.False(t, ok, "K-FAC is no baseline")
}

// A set larger than an evaluation chunk gives the loss and metric of the
// whole set in one pass, to rounding.
func TestEvaluateChunks(t *testing.T) {
	b := testBench(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	n := 2*EvalRows + 77
	x := mat.NewDense(n, 64, nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rnd.Float64()
	}
	s := &data.Set{X: x, Y: x}
	tape := nn.NewTape(b.Model.Net, b.Model.Loss)
	loss, metric := b.Evaluate(tape, b.Theta0, s)
	whole := nn.NewTape(b.Model.Net, b.Model.Loss)
	whole.Forward(b.Theta0, x)
	assert.InEpsilon(t, whole.LossValue(x), loss, 1e-13)
	assert.InEpsilon(t, squaredError(whole.Z(), x)/float64(n), metric, 1e-13)
}

// runs.csv has a row per evaluation, the metric's columns named after it,
// NaN where a run has no value.
func TestRunsCSV(t *testing.T) {
	b := testBench(t)
	r, err := b.Run("sgd", 0.3, math.NaN(), NewProgress(io.Discard))
	require.NoError(t, err)
	out, err := b.RunsCSV([]*Result{r})
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"optimizer", "step", "wall_seconds", "train_loss", "test_loss", "train_squared_error", "test_squared_error", "learning_rate", "damping"}, rows[0])
	require.Len(t, rows, 1+len(r.Rows))
	assert.Equal(t, []string{"sgd", "60"}, rows[len(rows)-1][:2])
	assert.Equal(t, "0.3", rows[1][7])
	assert.Equal(t, "NaN", rows[1][8], "SGD has no damping")
}

// A best rate at an end of its grid is flagged; an interior one is not.
func TestGridEdge(t *testing.T) {
	grid := func(best float64, lrs ...float64) ([]*Result, *Result) {
		var runs []*Result
		var b *Result
		for _, lr := range lrs {
			runs = append(runs, &Result{LR: lr})
			if lr == best {
				b = runs[len(runs)-1]
			}
		}
		return runs, b
	}
	for _, c := range []struct {
		best float64
		lrs  []float64
		want string
	}{
		{0.01, []float64{0.003, 0.01, 0.03}, ""},
		{0.003, []float64{0.003, 0.01, 0.03}, "smallest"},
		{0.03, []float64{0.01, 0.03, 0.003}, "largest"},
		{0.1, []float64{0.1}, ""},
	} {
		runs, best := grid(c.best, c.lrs...)
		assert.Equal(t, c.want, GridEdge(runs, best), "%v of %v", c.best, c.lrs)
	}
	runs, best := grid(0.03, 0.01, 0.03)
	var w strings.Builder
	for _, r := range runs {
		r.Rows = []Row{{TrainLoss: 1}}
	}
	PrintTuning(&w, "adam", "adam-lrs", runs, best)
	assert.Contains(t, w.String(), "note: adam's best rate 0.03 is the largest of its grid; a better one may lie beyond it (widen -adam-lrs)")
}

// The table compares every K-FAC run, "kfac" and its variants
// "kfac-…", with the fastest other run that reached the target, in the
// ratios of their steps and seconds; a run at the target at step 0 or one
// that never reached it gets no line.
func TestPrintTableRatios(t *testing.T) {
	b := testBench(t)
	row := []Row{{Step: 0, TrainLoss: 1, TestLoss: 1}}
	res := func(name string, lr float64, reached bool, steps int, secs float64) *Result {
		return &Result{Optimizer: name, LR: lr, Rows: row, Reached: reached, StepsToTarget: steps, SecondsToTarget: secs, Steps: max(steps, 1), Seconds: secs}
	}
	var buf bytes.Buffer
	b.PrintTable(&buf, 0.5, []*Result{
		res("kfac", 0, true, 300, 1.5),
		res("kfac-reduce", 0, true, 200, 0.75),
		res("kfac-other", 0, true, 0, 0),
		res("adam", 0.01, true, 1800, 6),
		res("sgd", 0.1, true, 1500, 7.5),
		res("hf", 0, false, 10, 1),
	})
	out := buf.String()
	// Adam is the faster baseline: 1800/300 = 6 and 6/1.5 = 4; 1800/200 = 9, 6/0.75 = 8.
	assert.Contains(t, out, "K-FAC reached the target in 6.0× fewer steps and 4.0× less time than adam lr=0.01\n")
	assert.Contains(t, out, "K-FAC (reduce) reached the target in 9.0× fewer steps and 8.0× less time than adam lr=0.01\n")
	assert.NotContains(t, out, "K-FAC (other)")
	assert.Equal(t, 2, strings.Count(out, "reached the target"))
}
