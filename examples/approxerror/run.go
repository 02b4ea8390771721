package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/examples/internal/command"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/internal/progress"
)

// settings of a run; the flags set the first four.
type settings struct {
	Out   string
	Steps int    // Adam steps
	Every int    // measure at steps 0, Every, 2·Every, … and at Steps
	Seed  uint64 // initialisation, mini-batches, evaluation batch

	Hidden int     // width of the hidden tanh layer
	Batch  int     // training mini-batch
	Eval   int     // samples of the fixed evaluation batch the matrices are taken on
	LR     float64 // Adam's learning rate
}

// defaults returns the settings of the README's run.
func defaults() settings {
	return settings{Out: "approxerror-out", Steps: 300, Every: 25, Seed: 1, Hidden: 16, Batch: 64, Eval: 256, LR: 0.01}
}

func (s settings) check() error {
	switch {
	case s.Out == "":
		return errors.New("-out is empty")
	case s.Steps < 1:
		return fmt.Errorf("-steps %d: want at least 1", s.Steps)
	case s.Every < 1:
		return fmt.Errorf("-every %d: want at least 1", s.Every)
	case s.Hidden < 1 || s.Batch < 1 || s.Eval < 2 || !(s.LR > 0):
		return fmt.Errorf("bad settings %+v", s)
	}
	return nil
}

// The matrices measured, and the approximations compared with each.
var (
	matrices = []curvature.Kind{curvature.Hessian, curvature.GGN, curvature.EmpiricalFisher}
	// Built from the matrix itself.
	structural = []string{"diagonal", "block_diagonal", "kronecker_optimal"}
)

// metricSettings configure the spectral errors and λ: matrices above
// order 1024 (P = 1210 by default) go to Lanczos, with approx's other
// defaults, which agree with the dense eigensolver to 12 digits here.
var metricSettings = approx.MetricSettings{DenseLimit: 1024}

// tongaSettings configure the TONGA measured, as in training: per-neuron
// blocks fed every mini-batch's per-sample gradients (uncentered, the
// paper's recursion; rank 5, discount 0.995 per gradient).
var tongaSettings = approx.TONGASettings{Uncentered: true}

// point is one measurement: the step, the loss on the evaluation batch and
// the relative Frobenius errors by matrix and approximation.
type point struct {
	step int
	loss float64
	frob map[string]map[string]float64
}

// run trains and measures, writing into s.Out, and reports progress to w.
func run(s settings, w io.Writer) error {
	if err := s.check(); err != nil {
		return err
	}
	digits, err := data.Digits()
	if err != nil {
		return err
	}
	if s.Eval > digits.Len() {
		return fmt.Errorf("evaluation batch of %d from %d digits", s.Eval, digits.Len())
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0xa99e))
	net, err := nn.NewMLP([]int{64, s.Hidden, 10}, []string{"tanh", "identity"})
	if err != nil {
		return err
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	P := net.NumParams()
	theta := make([]float64, P)
	net.Init(theta, rng)
	eval := digits.Subset(rng.Perm(digits.Len())[:s.Eval])
	eb := curvature.Batch{X: eval.X, Y: eval.Y}
	batches, err := data.NewBatches(digits, s.Batch, rng)
	if err != nil {
		return err
	}
	adamSettings := firstorder.DefaultAdamSettings()
	adamSettings.LR = s.LR
	adam, err := firstorder.NewAdam(P, adamSettings)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "64-%d-10 tanh on the digits, %d parameters; matrices on %d fixed samples, Adam lr %g, batches of %d\n",
		s.Hidden, P, s.Eval, s.LR, s.Batch)
	if err := printMemory(w, m); err != nil {
		return err
	}
	feed, err := approx.NewTONGAFeed(m, approx.PerNeuron, &tongaSettings)
	if err != nil {
		return err
	}

	// Every evaluation rewrites the whole table atomically, so a run cut
	// short leaves the rows so far and never half a line. The first one
	// replaces the previous run's files as a set (data.WriteFiles): its
	// table, and its loss.csv and errors.png go, so a directory never
	// mixes two runs; loss.csv and errors.png come at the end, together.
	var table []data.Record
	writeTable := func(w io.Writer) error { return data.WriteRecords(w, table) }

	tape := nn.NewTape(net, m.Loss)
	grad := make([]float64, P)
	var points []point
	for step := 0; ; step++ {
		if step%s.Every == 0 || step == s.Steps {
			recs, pt, err := evaluate(step, m, theta, eb, feed.TONGA())
			if err != nil {
				return fmt.Errorf("step %d: %w", step, err)
			}
			table = append(table, recs...)
			if step == 0 {
				if err := os.MkdirAll(s.Out, 0o755); err != nil {
					return err
				}
				err = data.WriteFiles(s.Out, []data.File{{Name: "errors.csv", Write: writeTable}}, "loss.csv", "errors.png")
			} else {
				err = data.WriteFileAtomic(filepath.Join(s.Out, "errors.csv"), writeTable)
			}
			if err != nil {
				return err
			}
			points = append(points, pt)
			report(w, pt)
		}
		if step == s.Steps {
			break
		}
		if !batches.Next() { // the end of an epoch
			batches.Next()
		}
		b := curvature.Batch{X: batches.X(), Y: batches.Y()}
		if err := feed.Add(theta, b); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		tape.Forward(theta, b.X)
		tape.Backward(grad, nil, b.Y)
		if err := adam.Step(theta, grad); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	png, err := drawErrors(points, s)
	if err != nil {
		return err
	}
	if err := data.WriteFiles(s.Out, []data.File{{Name: "loss.csv", Write: writeLoss(points)}, {Name: "errors.png", Write: png}}); err != nil {
		return err
	}
	if err := data.RemoveStaleTemps(s.Out, outputs...); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: errors.csv (%d rows), loss.csv, errors.png\n", s.Out, len(table))
	return nil
}

// outputs are the files run writes.
var outputs = []string{"errors.csv", "loss.csv", "errors.png"}

// evaluate builds the exact matrices and every approximation at θ on the
// evaluation batch and measures them.
func evaluate(step int, m *curvature.Model, theta []float64, eb curvature.Batch, tonga *approx.TONGA) ([]data.Record, point, error) {
	pt := point{step: step, frob: map[string]map[string]float64{}}
	P := len(theta)
	tape := nn.NewTape(m.Net, m.Loss)
	tape.Forward(theta, eb.X)
	pt.loss = tape.LossValue(eb.Y)
	grad := make([]float64, P)
	tape.Backward(grad, nil, eb.Y)

	layers, err := approx.PerLayer.Index(m.Net)
	if err != nil {
		return nil, pt, err
	}
	neurons, err := approx.PerNeuron.Index(m.Net)
	if err != nil {
		return nil, pt, err
	}
	shapes, err := approx.NetworkShapes(m.Net)
	if err != nil {
		return nil, pt, err
	}
	// K-FAC and EKFAC of the GGN (exact factors) and of the empirical Fisher.
	ekExact, err := approx.ModelEKFAC(m, theta, eb, nil)
	if err != nil {
		return nil, pt, err
	}
	ekEmp, err := approx.ModelEKFAC(m, theta, eb, &approx.KFACSettings{Factors: approx.EmpiricalFactors})
	if err != nil {
		return nil, pt, err
	}
	kExact, kEmp := ekExact.KFAC(), ekEmp.KFAC()

	var recs []data.Record
	for _, kind := range matrices {
		bar := progress.New(os.Stderr, kind.String())
		M, err := m.Dense(kind, theta, eb, &curvature.Options{Progress: bar.Report})
		bar.Finish()
		if err != nil {
			return nil, pt, err
		}
		exact, err := approx.NewSymMatrix(M, 0)
		if err != nil {
			return nil, pt, err
		}
		lambda, err := approx.SolveDamping(curvature.NewDense(M), &metricSettings)
		if err != nil {
			return nil, pt, err
		}
		type cand struct {
			name string
			a    approx.Approximation
		}
		var cands []cand
		d, err := approx.DiagonalOf(M, 0)
		if err != nil {
			return nil, pt, err
		}
		bd, err := approx.BlockDiagonalOf(M, layers, 0)
		if err != nil {
			return nil, pt, err
		}
		nk, err := approx.NearestKroneckerOf(M, shapes, nil)
		if err != nil {
			return nil, pt, err
		}
		cands = append(cands, cand{structural[0], d}, cand{structural[1], bd}, cand{structural[2], nk})
		switch kind {
		case curvature.GGN:
			cands = append(cands, cand{"kfac", kExact}, cand{"ekfac", ekExact})
		case curvature.EmpiricalFisher:
			// TONGA's partition without its rank limit: the reference
			// that separates what TONGA's blocks lose from what its
			// low rank and its stream lose.
			nb, err := approx.BlockDiagonalOf(M, neurons, 0)
			if err != nil {
				return nil, pt, err
			}
			cands = append(cands, cand{"kfac", kEmp}, cand{"ekfac", ekEmp}, cand{"neuron_block_diagonal", nb})
			if tonga.Count() > 0 {
				cands = append(cands, cand{"tonga", tonga})
			}
		}
		pt.frob[kind.String()] = map[string]float64{}
		for i, c := range cands {
			cmp, err := approx.Compare(exact, c.a, grad, lambda, 0, &metricSettings)
			if err != nil {
				return nil, pt, fmt.Errorf("%s against %v: %w", c.name, kind, err)
			}
			if i == 0 {
				recs = append(recs, cmp.ExactRecords(step, kind.String())...)
			}
			recs = append(recs, cmp.Records(step, kind.String(), c.name)...)
			pt.frob[kind.String()][c.name] = cmp.RelFrobenius
		}
	}
	return recs, pt, nil
}

// printMemory prints, before anything is built, the float64 values each
// matrix and approximation of a measurement will hold
// (approx.ModelMemory), from the network's shapes alone.
func printMemory(w io.Writer, m *curvature.Model) error {
	mem, err := approx.ModelMemory(m, approx.PerNeuron, &tongaSettings)
	if err != nil {
		return err
	}
	return command.PrintMemory(w, mem, len(matrices), "diagonal", "block_diagonal", "neuron_block_diagonal",
		"kronecker_optimal", "kfac (each of 2)", "ekfac (each of 2)", "tonga")
}

// report prints one line per measurement.
func report(w io.Writer, pt point) {
	var b strings.Builder
	fmt.Fprintf(&b, "step %4d  loss %.4f  rel. Frobenius error vs GGN:", pt.step, pt.loss)
	for _, a := range []string{"diagonal", "block_diagonal", "kfac", "ekfac", "kronecker_optimal"} {
		fmt.Fprintf(&b, " %s %.3f", a, pt.frob["ggn"][a])
	}
	if v, ok := pt.frob["empirical_fisher"]["tonga"]; ok {
		fmt.Fprintf(&b, "; TONGA vs empirical Fisher %.3f", v)
	}
	fmt.Fprintln(w, b.String())
}

// writeLoss returns the function that writes step,loss (the mean loss on
// the evaluation batch).
func writeLoss(points []point) func(io.Writer) error {
	return func(w io.Writer) error {
		var b strings.Builder
		b.WriteString("step,loss\n")
		for _, p := range points {
			fmt.Fprintf(&b, "%d,%s\n", p.step, formatFloat(p.loss))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
}

// formatFloat writes v with the fewest digits that read back exactly.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
