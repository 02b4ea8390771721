package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/spectral"
	"github.com/curvkit/curvkit/examples/internal/command"
	"github.com/curvkit/curvkit/internal/progress"
)

// settings of a run; the flags set them.
type settings struct {
	Out     string
	Hidden  int     // width of the hidden tanh layer
	Samples int     // digits the loss and both matrices are taken on
	Train   int     // full-batch gradient-descent steps before measuring
	LR      float64 // their learning rate
	Steps   int     // Lanczos steps per probe
	Probes  int     // random probes
	Seed    uint64  // initialisation, sample choice and probes
}

func main() {
	s := settings{Out: "spectrum-out", Hidden: 16, Samples: 512, Train: 300, LR: 0.5, Steps: 80, Probes: 10, Seed: 1}
	flag.StringVar(&s.Out, "out", s.Out, "output `directory`")
	flag.IntVar(&s.Hidden, "hidden", s.Hidden, "width of the hidden layer")
	flag.IntVar(&s.Samples, "samples", s.Samples, "digits the matrices are taken on")
	flag.IntVar(&s.Train, "train", s.Train, "gradient-descent steps before measuring")
	flag.Float64Var(&s.LR, "lr", s.LR, "gradient-descent learning rate")
	flag.IntVar(&s.Steps, "steps", s.Steps, "Lanczos steps per probe")
	flag.IntVar(&s.Probes, "probes", s.Probes, "random probes")
	flag.Uint64Var(&s.Seed, "seed", s.Seed, "seed of the initialisation, the samples and the probes")
	command.Main("spectrum", func(w io.Writer) error { return run(s, w) })
}

// matrices are the curvature matrices whose densities are estimated.
var matrices = []curvature.Kind{curvature.Hessian, curvature.GGN}

// run estimates the densities, reports them on w and writes the files.
func run(s settings, w io.Writer) error {
	m, theta, b, err := problem(s, w)
	if err != nil {
		return err
	}
	densities := make([]*spectral.Density, len(matrices))
	for i, kind := range matrices {
		// M·v by exact matrix-free products: nothing P×P is formed.
		op, err := m.Operator(kind, theta, b, nil)
		if err != nil {
			return err
		}
		bar := progress.New(os.Stderr, kind.String())
		slq := &spectral.SLQ{Steps: s.Steps, Probes: s.Probes, Seed: s.Seed, Progress: bar.Report}
		d, err := slq.Density(op)
		bar.Finish()
		if err != nil {
			return fmt.Errorf("%v: %w", kind, err)
		}
		densities[i] = d
		fmt.Fprintf(w, "%-7v eigenvalues in [%.4g, %.4g], mean %.4g, %d products\n",
			kind, d.Nodes[0], d.Nodes[len(d.Nodes)-1], floats.Dot(d.Nodes, d.Weights), d.Products)
	}
	png, err := drawPNG(densities, len(theta))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Out, 0o755); err != nil {
		return err
	}
	// Both files together (data.WriteFiles): a run cut short leaves the
	// previous run's pair or part of this one's, never one of each.
	err = data.WriteFiles(s.Out, []data.File{
		{Name: "density.csv", Write: func(f io.Writer) error { return writeCSV(f, densities) }},
		{Name: "density.png", Write: func(f io.Writer) error { _, err := png.WriteTo(f); return err }},
	})
	if err != nil {
		return err
	}
	if err := data.RemoveStaleTemps(s.Out, outputs...); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\n", filepath.Join(s.Out, "density.{csv,png}"))
	return nil
}

// outputs are the files run writes.
var outputs = []string{"density.csv", "density.png"}

// problem returns a 64-Hidden-10 tanh classifier with softmax
// cross-entropy, trained by full-batch gradient descent on Samples random
// digits, and that batch.
func problem(s settings, w io.Writer) (*curvature.Model, []float64, curvature.Batch, error) {
	if s.Hidden < 1 || s.Samples < 1 || s.Train < 0 || !(s.LR > 0) || s.Steps < 1 || s.Probes < 1 {
		return nil, nil, curvature.Batch{}, fmt.Errorf("bad settings %+v", s)
	}
	digits, err := data.Digits()
	if err != nil {
		return nil, nil, curvature.Batch{}, err
	}
	if s.Samples > digits.Len() {
		return nil, nil, curvature.Batch{}, fmt.Errorf("%d samples of %d digits", s.Samples, digits.Len())
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0))
	net, err := nn.NewMLP([]int{64, s.Hidden, 10}, []string{"tanh", "identity"})
	if err != nil {
		return nil, nil, curvature.Batch{}, err
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	set := digits.Subset(rng.Perm(digits.Len())[:s.Samples])
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	b := curvature.Batch{X: set.X, Y: set.Y}
	obj, err := m.Objective(b)
	if err != nil {
		return nil, nil, curvature.Batch{}, err
	}
	before := obj.Func(theta)
	grad := make([]float64, len(theta))
	for range s.Train {
		obj.Grad(grad, theta)
		floats.AddScaled(theta, -s.LR, grad)
	}
	loss := obj.Func(theta)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return nil, nil, curvature.Batch{}, errors.New("gradient descent diverged; lower the learning rate")
	}
	fmt.Fprintf(w, "64-%d-10 tanh, %d parameters, %d digits: loss %.4f → %.4f after %d gradient-descent steps\n",
		s.Hidden, len(theta), s.Samples, before, loss, s.Train)
	return m, theta, b, nil
}

// writeCSV writes the tidy table matrix,eigenvalue,density, one grid point
// a row, each number in the shortest form that reads back exactly.
func writeCSV(w io.Writer, densities []*spectral.Density) error {
	if _, err := io.WriteString(w, "matrix,eigenvalue,density\n"); err != nil {
		return err
	}
	var line []byte
	for i, d := range densities {
		for j, x := range d.X {
			line = append(line[:0], matrices[i].String()...)
			line = append(line, ',')
			line = strconv.AppendFloat(line, x, 'g', -1, 64)
			line = append(line, ',')
			line = strconv.AppendFloat(line, d.Y[j], 'g', -1, 64)
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// drawPNG draws the densities on a logarithmic axis, as Ghorbani et al.
// and PyHessian do: the bulk near zero is orders of magnitude denser than
// the outliers.
func drawPNG(densities []*spectral.Density, params int) (io.WriterTo, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("eigenvalue density, %d parameters (stochastic Lanczos quadrature)", params)
	p.X.Label.Text = "eigenvalue"
	p.Y.Label.Text = "density"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: 1}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, d := range densities {
		// A log axis cannot show 0: floor the curve six decades below its
		// peak.
		floor := 1e-6 * floats.Max(d.Y)
		xys := make(plotter.XYs, len(d.X))
		for j := range d.X {
			xys[j] = plotter.XY{X: d.X[j], Y: max(d.Y[j], floor)}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Width = vg.Points(1.4)
		line.Color = plotutil.Color(i)
		p.Add(line)
		p.Legend.Add(matrices[i].String(), line)
	}
	return p.WriterTo(16*vg.Centimeter, 10*vg.Centimeter, "png")
}
