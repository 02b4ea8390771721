package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/examples/internal/command"
	"github.com/curvkit/curvkit/internal/progress"
)

// config holds the command-line settings.
type config struct {
	Model, Data, Out string
	KFAC             string // exact, mc or empirical
	Samples          int    // labels per input for mc
	Seed             uint64 // of the mc labels
}

// maxParams bounds P: every matrix file is P×P and each comparison costs
// O(P³).
const maxParams = 2048

// exported lists the matrices written, each to <name>.csv.
var exported = []curvature.Kind{
	curvature.Hessian, curvature.GGN, curvature.Fisher,
	curvature.EmpiricalFisher, curvature.GradientCovariance,
}

// tongaSettings configure the TONGA of errors.csv: per-neuron blocks of
// rank 5, refreshed every 5 gradients, no discount, so it estimates the
// covariance of the file's per-sample gradients (fed in file order).
var tongaSettings = approx.TONGASettings{Rank: 5, Refresh: 5, Discount: 1}

// run reads the model and data, writes every file into c.Out, and prints a
// summary to w.
func run(c config, w io.Writer) error {
	switch {
	case c.Model == "":
		return errors.New("-model is required")
	case c.Data == "":
		return errors.New("-data is required")
	case c.Out == "":
		return errors.New("-out is required")
	case c.Samples < 1:
		return fmt.Errorf("-samples %d: want at least 1", c.Samples)
	}
	if c.KFAC == "" {
		c.KFAC = "exact"
	}
	fkind, err := approx.ParseFactorKind(c.KFAC)
	if err != nil {
		return fmt.Errorf("-kfac: %w", err)
	}
	lm, err := loadModel(c.Model)
	if err != nil {
		return err
	}
	b, err := loadBatch(c.Data, lm)
	if err != nil {
		return err
	}
	m, theta := lm.model, lm.theta
	P := len(theta)
	if P > maxParams {
		return fmt.Errorf("%s: %d parameters; export writes P×P matrices and handles at most %d", c.Model, P, maxParams)
	}
	if err := printMemory(w, m, len(exported)); err != nil {
		return err
	}
	// Everything is computed before anything is written, and the files are
	// written as one set (data.WriteFiles): an error leaves the output
	// directory as it was, and a run cut short never mixes two runs.
	tape := nn.NewTape(m.Net, m.Loss)
	tape.Forward(theta, b.X)
	loss := tape.LossValue(b.Y)
	grad := make([]float64, P)
	tape.Backward(grad, nil, b.Y)
	if err := finiteValues("the loss", []float64{loss}); err != nil {
		return fmt.Errorf("%s: %w", c.Data, err)
	}
	if err := finiteValues("the gradient", grad); err != nil {
		return fmt.Errorf("%s: %w", c.Data, err)
	}
	files := []data.File{matrixFile("grad.csv", mat.NewDense(1, P, grad))}

	matrices := make(map[curvature.Kind]*mat.SymDense, len(exported))
	for _, kind := range exported {
		bar := progress.New(os.Stderr, kind.String())
		M, err := m.Dense(kind, theta, b, &curvature.Options{Progress: bar.Report})
		bar.Finish()
		if err != nil {
			return err
		}
		matrices[kind] = M
		files = append(files, matrixFile(kind.String()+".csv", M))
	}

	ekfac, err := approx.ModelEKFAC(m, theta, b, &approx.KFACSettings{Factors: fkind, Samples: c.Samples, Seed: c.Seed})
	if err != nil {
		return err
	}
	kfac := ekfac.KFAC()
	var kronBlocks []string // the blocks with factor files
	for l := 0; l < kfac.NumBlocks(); l++ {
		kr := kfac.Kron(l)
		if kr == nil {
			continue
		}
		kronBlocks = append(kronBlocks, strconv.Itoa(l))
		g, a := kr.Factors()
		files = append(files, matrixFile(fmt.Sprintf("kfac_A_%d.csv", l), a), matrixFile(fmt.Sprintf("kfac_G_%d.csv", l), g))
	}

	na := networkApprox{kfac: kfac, ekfac: ekfac, kfacTargets: kfacTargets(fkind)}
	ts := tongaSettings
	if na.tonga, err = approx.ModelTONGA(m, theta, b, approx.PerNeuron, &ts); err != nil {
		return err
	}
	ts.Uncentered = true
	if na.tongaUncentr, err = approx.ModelTONGA(m, theta, b, approx.PerNeuron, &ts); err != nil {
		return err
	}
	layers, err := approx.PerLayer.Index(m.Net)
	if err != nil {
		return err
	}

	// The candidates of every matrix first, so that the bar knows the
	// number of comparisons.
	cands := make([][]candidate, len(exported))
	lambdas := make([]float64, len(exported))
	total := 0
	for i, kind := range exported {
		M := matrices[kind]
		if lambdas[i], err = approx.SolveDamping(curvature.NewDense(M), nil); err != nil {
			return fmt.Errorf("%v: %w", kind, err)
		}
		nk, nkErr := approx.ModelNearestKronecker(m, kind, theta, b, nil, nil)
		cands[i] = candidates(kind, M, layers, candidate{"kronecker_optimal", nk, nkErr}, na)
		total += len(cands[i])
	}
	bar := progress.New(os.Stderr, "comparisons")
	var rows []data.Record
	done := 0
	for i, kind := range exported {
		r, err := compare(kind, matrices[kind], lambdas[i], grad, cands[i], w, func() { done++; bar.Report(done, total) })
		if err != nil {
			bar.Finish()
			return fmt.Errorf("%v: %w", kind, err)
		}
		rows = append(rows, r...)
	}
	bar.Finish()
	files = append(files, data.File{Name: "errors.csv", Write: func(w io.Writer) error { return data.WriteRecords(w, rows) }})
	if err := writeOutputs(c.Out, files); err != nil {
		return err
	}
	summarize(w, c, P, b.Len(), loss, kronBlocks, rows)
	return nil
}

// kfacTargets returns the matrices that K-FAC with factors of kind k
// approximates: the GGN and the Fisher (equal for these losses) for exact
// and Monte-Carlo factors, the empirical Fisher for empirical ones.
func kfacTargets(k approx.FactorKind) []curvature.Kind {
	if k == approx.EmpiricalFactors {
		return []curvature.Kind{curvature.EmpiricalFisher}
	}
	return []curvature.Kind{curvature.GGN, curvature.Fisher}
}

// summarize prints what was written and the relative Frobenius errors.
func summarize(w io.Writer, c config, P, N int, loss float64, kronBlocks []string, rows []data.Record) {
	fmt.Fprintf(w, "%s on %s: %d parameters, %d samples, loss %.6g\n", c.Model, c.Data, P, N, loss)
	var factors string
	switch len(kronBlocks) {
	case 0:
		factors = "no K-FAC factors (no layer has a Kronecker form)"
	case 1:
		factors = fmt.Sprintf("kfac_{A,G}_%s.csv (%s factors)", kronBlocks[0], c.KFAC)
	default:
		factors = fmt.Sprintf("kfac_{A,G}_{%s}.csv (%s factors)", strings.Join(kronBlocks, ","), c.KFAC)
	}
	fmt.Fprintf(w, "wrote %s: grad.csv, %s, %s, errors.csv\n", c.Out, strings.Join(matrixFiles(), ", "), factors)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "relative Frobenius error\tdiagonal\tblock_diagonal\tkfac\tekfac\tkronecker_optimal\ttonga\t")
	names := []string{"diagonal", "block_diagonal", "kfac", "ekfac", "kronecker_optimal", "tonga"}
	for _, kind := range exported {
		fmt.Fprintf(tw, "%v\t", kind)
		for _, a := range names {
			cell := "-"
			for _, r := range rows {
				if r.Matrix == kind.String() && r.Approximation == a && r.Metric == approx.MetricRelFrobenius {
					cell = fmt.Sprintf("%.3g", r.Value)
				}
			}
			fmt.Fprintf(tw, "%s\t", cell)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// printMemory prints, before anything is built, the float64 values each
// matrix and approximation will hold (approx.ModelMemory), from the
// network's shapes alone.
func printMemory(w io.Writer, m *curvature.Model, matrices int) error {
	mem, err := approx.ModelMemory(m, approx.PerNeuron, &tongaSettings)
	if err != nil {
		return err
	}
	return command.PrintMemory(w, mem, matrices, "diagonal", "block_diagonal", "kronecker_optimal", "kfac", "ekfac", "tonga (each of 2)")
}

// matrixFiles returns the names of the matrix files.
func matrixFiles() []string {
	var s []string
	for _, k := range exported {
		s = append(s, k.String()+".csv")
	}
	return s
}

// matrixFile is the output file that holds m as a headerless CSV.
func matrixFile(name string, m mat.Matrix) data.File {
	return data.File{Name: name, Write: func(w io.Writer) error { return data.WriteMatrix(w, m) }}
}

// finiteValues returns an error naming the first value of v that is NaN
// or infinite, and the value.
func finiteValues(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if len(v) == 1 {
				return fmt.Errorf("%s is %v", what, x)
			}
			return fmt.Errorf("%s has %v at index %d", what, x, i)
		}
	}
	return nil
}
