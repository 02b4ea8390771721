package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/internal/tune"
	"github.com/curvkit/curvkit/secondorder"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "mnistae:", err)
		os.Exit(2)
	}
}

// config is the parsed command line.
type config struct {
	mnist       string
	sizes       []int
	init        string
	train, test int
	batch       int
	steps       int
	evalEvery   int
	seed        uint64
	optimizers  []string
	target      float64
	targetSet   bool
	adamLRs     []float64
	sgdLRs      []float64
	momentum    float64
	nesterov    bool
	l2          float64
	damping     float64
	out         string
	force       bool
	saveParams  bool
}

// paperSizes is Hinton & Salakhutdinov's (2006) MNIST autoencoder, the
// one Martens & Grosse (2015) train.
const paperSizes = "784,1000,500,250,30,250,500,1000,784"

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("mnistae", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var sizes, opts, adamLRs, sgdLRs string
	var seed int64
	fs.StringVar(&c.mnist, "mnist", "", "folder of MNIST's four idx files (default: the module cache's copy of "+data.MNISTModule+")")
	fs.StringVar(&sizes, "sizes", paperSizes, "layer sizes, 784 first and last; the middle one is the linear code layer, the others logistic")
	fs.StringVar(&c.init, "init", "sparse", "initialisation: sparse (15 incoming N(0, 1) weights per unit, Martens 2010) or glorot")
	fs.IntVar(&c.train, "train", 5000, "training images: the first N of MNIST's 60,000")
	fs.IntVar(&c.test, "test", 1000, "held-out images: the first N of MNIST's 10,000 test images")
	fs.IntVar(&c.batch, "batch", 1000, "mini-batch size (Martens & Grosse start at 1,000)")
	fs.IntVar(&c.steps, "steps", 100, "step budget of every run")
	fs.IntVar(&c.evalEvery, "eval-every", 5, "steps between evaluations of the training and held-out loss (tuning runs: every 50)")
	fs.Int64Var(&seed, "seed", 1, "seed of the initialisation, the batches and K-FAC's sampled targets")
	fs.StringVar(&opts, "optimizers", "kfac,adam,sgd", "optimizers to run: kfac, adam, sgd")
	fs.Float64Var(&c.target, "target", 0, "target training loss (default: the best loss a tuned baseline reaches in -steps)")
	fs.StringVar(&adamLRs, "adam-lrs", "0.0003,0.001,0.003", "Adam's learning-rate grid")
	fs.StringVar(&sgdLRs, "sgd-lrs", "0.001,0.003,0.01", "SGD's learning-rate grid")
	fs.Float64Var(&c.momentum, "momentum", 0.9, "SGD's momentum")
	fs.BoolVar(&c.nesterov, "nesterov", true, "SGD with Nesterov momentum (torch's form), the baseline of Martens & Grosse")
	fs.Float64Var(&c.l2, "l2", 1e-5, "L2 penalty η/2‖θ‖² of every optimizer's objective (Martens & Grosse: 1e-5); the losses reported leave it out")
	fs.Float64Var(&c.damping, "damping", 0, "K-FAC's initial damping λ (0: secondorder.KFAC's default)")
	fs.StringVar(&c.out, "out", "", "output folder (default: a fresh mnistae-out-N)")
	fs.BoolVar(&c.force, "force", false, "write into -out even if it holds files")
	fs.BoolVar(&c.saveParams, "save-params", false, "also write each optimizer's final parameters, params_NAME.csv (one value a line)")
	var err error
	if c.seed, c.targetSet, err = tune.ParseFlags(fs, args, &seed); err != nil {
		return nil, err
	}
	if c.sizes, err = parseSizes(sizes); err != nil {
		return nil, fmt.Errorf("-sizes: %w", err)
	}
	if c.init != "sparse" && c.init != "glorot" {
		return nil, fmt.Errorf("-init %q: want sparse or glorot", c.init)
	}
	for _, o := range strings.Split(opts, ",") {
		o = strings.TrimSpace(o)
		if o != "kfac" && o != "adam" && o != "sgd" {
			return nil, fmt.Errorf("-optimizers: unknown %q; want some of kfac, adam, sgd", o)
		}
		if slices.Contains(c.optimizers, o) {
			return nil, fmt.Errorf("-optimizers names %s twice", o)
		}
		c.optimizers = append(c.optimizers, o)
	}
	if c.adamLRs, err = parseRates(adamLRs); err != nil {
		return nil, fmt.Errorf("-adam-lrs: %w", err)
	}
	if c.sgdLRs, err = parseRates(sgdLRs); err != nil {
		return nil, fmt.Errorf("-sgd-lrs: %w", err)
	}
	for _, p := range []struct {
		name string
		v    int
		max  int
	}{{"train", c.train, 60000}, {"test", c.test, 10000}, {"batch", c.batch, math.MaxInt32}, {"steps", c.steps, math.MaxInt32}, {"eval-every", c.evalEvery, math.MaxInt32}} {
		if p.v <= 0 || p.v > p.max {
			return nil, fmt.Errorf("-%s %d: must be in 1…%d", p.name, p.v, p.max)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"target", c.target, c.target >= 0},
		{"momentum", c.momentum, c.momentum >= 0 && c.momentum < 1},
		{"l2", c.l2, c.l2 >= 0},
		{"damping", c.damping, c.damping >= 0},
	} {
		if !p.ok || math.IsNaN(p.v) || math.IsInf(p.v, 0) {
			return nil, fmt.Errorf("-%s %v is out of range", p.name, p.v)
		}
	}
	if c.nesterov && c.momentum == 0 {
		return nil, errors.New("-nesterov needs -momentum > 0")
	}
	if !c.targetSet && !slices.ContainsFunc(c.optimizers, tune.IsBaseline) {
		return nil, fmt.Errorf("-optimizers %s has no first-order baseline to set the target: add adam or sgd, or give -target", strings.Join(c.optimizers, ","))
	}
	return c, nil
}

// parseSizes reads -sizes: an odd number of at least three positive
// sizes, 784 first and last.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 || v > 1<<20 {
			return nil, fmt.Errorf("%q is not a size in 1…%d", f, 1<<20)
		}
		out = append(out, v)
	}
	switch {
	case len(out) < 3 || len(out)%2 == 0:
		return nil, fmt.Errorf("%s: want an odd number of sizes, at least three, so that one is the middle (code) layer", s)
	case out[0] != 784 || out[len(out)-1] != 784:
		return nil, fmt.Errorf("%s: an MNIST autoencoder starts and ends with 784 (28×28 pixels)", s)
	}
	return out, nil
}

func parseRates(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// grid returns the learning rates tuned for optimizer name (none for
// K-FAC, whose step size comes from its quadratic model).
func (c *config) grid(name string) []float64 {
	switch name {
	case "adam":
		return c.adamLRs
	case "sgd":
		return c.sgdLRs
	}
	return nil
}

// loadMNIST reads MNIST; a variable so that tests read it once.
var loadMNIST = data.MNIST

// run is the whole program, callable from tests.
func run(args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	acts := activations(c.sizes)
	net, err := nn.NewMLP(c.sizes, acts)
	if err != nil {
		return err
	}
	floats := memoryFloats(c)
	if err := curvature.CheckFloats("the runs of "+describe(c.sizes), floats, 0); err != nil {
		return err
	}
	train, test, err := loadMNIST(c.mnist)
	if err != nil {
		return err
	}
	first := func(s *data.Set, n int) *data.Set {
		x := s.X.Slice(0, n, 0, 784).(*mat.Dense)
		return &data.Set{X: x, Y: x} // an autoencoder's targets are its inputs
	}
	model := &curvature.Model{Net: net, Loss: nn.SigmoidBCE{}}
	theta0 := make([]float64, net.NumParams())
	rng := rand.New(rand.NewPCG(c.seed, 2))
	if c.init == "sparse" {
		sparseInit(c.sizes, theta0, rng)
	} else {
		net.Init(theta0, rng)
	}
	b := &tune.Bench{
		Name: "MNIST", Model: model, Train: first(train, c.train), Test: first(test, c.test), Theta0: theta0,
		Batch: c.batch, Steps: c.steps, EvalEvery: c.evalEvery, Seed: c.seed,
		New: func(name string, lr float64) (secondorder.Optimizer, error) { return newOptimizer(c, model, name, lr) },
		Damping: func(opt secondorder.Optimizer) float64 {
			if k, ok := opt.(*secondorder.KFAC); ok {
				return k.Lambda()
			}
			return math.NaN()
		},
		Metric: tune.Metric{Name: "squared_error", Head: "sq. error", Format: "%.3f", Show: true, Sum: squaredError},
	}

	names := outputNames(c)
	out, undo, err := tune.PrepareOut(c.out, c.force, "mnistae", allOutputs)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo() // leave no empty folder behind
		}
	}()
	fmt.Fprintf(stdout, "MNIST: %d training and %d held-out images, network %s, %d parameters, %s loss + %g/2‖θ‖², batch %d, %s initialisation\n",
		c.train, c.test, describe(c.sizes), net.NumParams(), model.Loss.Name(), c.l2, c.batch, c.init)
	fmt.Fprintf(stdout, "memory: about %s for the runs\n", curvature.SizeOfFloats(floats))

	prog := tune.NewProgress(stdout)
	target, results, err := b.Race(stdout, prog, tune.Plan{
		Optimizers: c.optimizers, Grid: c.grid, Flag: func(name string) string { return name + "-lrs" },
		Target: c.target, TargetSet: c.targetSet,
	})
	if err != nil {
		return err
	}
	files, err := b.Files(target, results)
	if err != nil {
		return err
	}
	if c.saveParams {
		for _, r := range results {
			files = append(files, data.File{Name: paramsName(r.Optimizer), Write: func(w io.Writer) error {
				return data.WriteMatrix(w, mat.NewVecDense(len(r.Theta), r.Theta))
			}})
		}
	}
	var remove []string // parameters of an earlier run that this one does not write
	for _, n := range allOutputs {
		if !slices.Contains(names, n) {
			remove = append(remove, n)
		}
	}
	paths, err := tune.Write(out, files, remove, allOutputs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(paths, ", "))
	return nil
}

// allOutputs are every file a run may write; outputNames those c's run
// writes.
var allOutputs = append(append([]string(nil), tune.Outputs...), paramsName("kfac"), paramsName("adam"), paramsName("sgd"))

func outputNames(c *config) []string {
	names := append([]string(nil), tune.Outputs...)
	if c.saveParams {
		for _, o := range c.optimizers {
			names = append(names, paramsName(o))
		}
	}
	return names
}

func paramsName(optimizer string) string { return "params_" + optimizer + ".csv" }

// activations returns the layers' activations: logistic, but linear for
// the code layer (the middle size) and the output (logits for the sigmoid
// cross-entropy).
func activations(sizes []int) []string {
	acts := make([]string, len(sizes)-1)
	for l := range acts {
		acts[l] = "sigmoid"
	}
	acts[len(sizes)/2-1] = "identity"
	acts[len(acts)-1] = "identity"
	return acts
}

// describe names the network: its sizes with the code layer marked.
func describe(sizes []int) string {
	s := make([]string, len(sizes))
	for i, v := range sizes {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "-") + " (logistic units, linear code)"
}

// memoryFloats estimates the floats the runs hold at once that grow with
// the network: two tuning runs, each with θ, its gradient and optimizer
// state and scratch (16 vectors of P, as examples/kfacbench counts), K-FAC's
// factors (running values and damped inverses), and the activations of
// the batch tapes (8 a run) and of an evaluation chunk (2,048 rows).
func memoryFloats(c *config) int {
	var P, kron, units float64
	for l := 1; l < len(c.sizes); l++ {
		in, out := float64(c.sizes[l-1]), float64(c.sizes[l])
		P += out * (in + 1)
		kron += out*out + (in+1)*(in+1)
	}
	for _, s := range c.sizes {
		units += float64(s)
	}
	f := 2 * (16*P + 2*units*(8*float64(c.batch)+2048))
	if slices.Contains(c.optimizers, "kfac") {
		f += 2 * kron
	}
	return int(min(f, math.MaxInt/2))
}

// newOptimizer builds optimizer name at learning rate lr (K-FAC finds its
// own step length).
func newOptimizer(c *config, m *curvature.Model, name string, lr float64) (secondorder.Optimizer, error) {
	P := m.Net.NumParams()
	switch name {
	case "adam":
		s := firstorder.DefaultAdamSettings()
		s.LR, s.WeightDecay = lr, c.l2
		opt, err := firstorder.NewAdam(P, s)
		if err != nil {
			return nil, err
		}
		return secondorder.NewFirstOrder(m, opt)
	case "sgd":
		opt, err := firstorder.NewSGD(P, firstorder.SGDSettings{LR: lr, Momentum: c.momentum, Nesterov: c.nesterov, WeightDecay: c.l2})
		if err != nil {
			return nil, err
		}
		return secondorder.NewFirstOrder(m, opt)
	case "kfac":
		return secondorder.NewKFAC(m, &secondorder.KFACSettings{Damping: c.damping, WeightDecay: c.l2, Seed: c.seed})
	}
	return nil, fmt.Errorf("unknown optimizer %q", name)
}

// sparseInit sets θ, the parameters of the MLP of the given layer sizes,
// as the "sparse initialisation" of Martens (2010) that Martens & Grosse
// (2015) use: each unit of each layer has min(15, inputs) incoming weights
// drawn from N(0, 1), the others 0, and a bias of 0. θ holds the layers'
// row-major out × (in+1) blocks [W | b] in turn.
func sparseInit(sizes []int, theta []float64, rng *rand.Rand) {
	clear(theta)
	off := 0
	for l := 1; l < len(sizes); l++ {
		in, out := sizes[l-1], sizes[l]
		idx := make([]int, in)
		for o := 0; o < out; o++ {
			for i := range idx {
				idx[i] = i
			}
			row := theta[off+o*(in+1) : off+(o+1)*(in+1)]
			// The first 15 of a partial Fisher–Yates shuffle.
			for j := 0; j < min(15, in); j++ {
				r := j + rng.IntN(in-j)
				idx[j], idx[r] = idx[r], idx[j]
				row[idx[j]] = rng.NormFloat64()
			}
		}
		off += out * (in + 1)
	}
}

// squaredError sums the squared reconstruction error Σ_k (σ(z_k) − y_k)²
// of the rows of logits z against targets y: the error Hinton &
// Salakhutdinov (2006) and Martens & Grosse (2015) report.
func squaredError(z, y *mat.Dense) float64 {
	zr, yr := z.RawMatrix(), y.RawMatrix()
	var s float64
	for i := 0; i < zr.Rows; i++ {
		zs, ys := zr.Data[i*zr.Stride:i*zr.Stride+zr.Cols], yr.Data[i*yr.Stride:i*yr.Stride+zr.Cols]
		for k, v := range zs {
			d := 1/(1+math.Exp(-v)) - ys[k]
			s += d * d
		}
	}
	return s
}
