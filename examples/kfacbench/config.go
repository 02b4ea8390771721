package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/internal/tune"
)

// config is the parsed command line.
type config struct {
	task     string
	dataPath string
	// mnist selects MNIST (from mnistDir, or the module cache when it
	// is ""), of which trainRows training and testRows held-out images.
	mnist       bool
	mnistDir    string
	testRows    int
	sizes       []int
	activations []string
	batch       int
	steps       int
	// trainRows is the number of training rows, or 0 to use trainFrac
	// of the rows.
	trainRows  int
	trainFrac  float64
	seed       uint64
	optimizers []string
	// target is the target training loss when targetSet; otherwise the
	// best loss a tuned baseline reaches sets it.
	target    float64
	targetSet bool
	evalEvery int
	out       string
	force     bool
	maxMemory float64 // MiB

	adamLRs, sgdLRs, ngLRs []float64
	momentum               float64

	damping         float64
	ngDamping       float64
	factors         approx.FactorKind
	decay           float64
	statsInterval   int
	statsFraction   float64
	modelFraction   float64
	hfFraction      float64
	inverseInterval int
	dampingInterval int
}

var knownOptimizers = map[string]string{
	"kfac":        "K-FAC (Martens & Grosse 2015), quadratic-model step and momentum; a convolution's factors expanded over its locations",
	"kfac-reduce": "K-FAC with a convolution's factors reduced over its locations (Eschenhagen et al. 2023); kfac on networks without convolutions",
	"adam":        "Adam, learning rate tuned over -adam-lrs",
	"sgd":         "SGD with momentum -momentum, learning rate tuned over -sgd-lrs",
	"hf":          "Hessian-free (Martens 2010), CG on damped GGN products, at most 50 CG steps",
	"ng-diag":     "natural gradient with the exact diagonal Fisher, learning rate tuned over -ng-lrs",
	"ng-block":    "natural gradient with the per-layer blocks of the Fisher (refreshed every -inverse-interval steps), tuned over -ng-lrs",
	"ng-kfac":     "natural gradient with K-FAC (factors refreshed every -inverse-interval steps), tuned over -ng-lrs",
	"ng-ekfac":    "natural gradient with EKFAC (refreshed every -inverse-interval steps), tuned over -ng-lrs",
}

// A taskSpec is what a task trains by default: the optimizers, the
// learning-rate grids, centred on the baselines' best rates found with
// wider grids (README), and K-FAC's settings, chosen for the task as
// README says. A flag given overrides each.
type taskSpec struct {
	optimizers      string
	adamLRs, sgdLRs string
	kfac            kfacSpec
}

// kfacSpec is K-FAC's settings of a task (secondorder.KFACSettings).
type kfacSpec struct {
	damping                          float64
	factors                          string
	decay                            float64
	statsInterval                    int
	statsFraction, modelFraction     float64
	inverseInterval, dampingInterval int
}

// mlpKFAC is secondorder.KFAC's defaults, which the MLP tasks use: Martens
// & Grosse (2015), amortised as measured on the autoencoder (README).
var mlpKFAC = kfacSpec{damping: 1e-2, factors: "mc", decay: 0.95, statsInterval: 1, statsFraction: 0.25, modelFraction: 0.25, inverseInterval: 20, dampingInterval: 5}

// convKFAC is K-FAC's settings of the digits' convolutional net:
// secondorder.KFAC's defaults but for λ = 1e-3 (its floor), inverses every
// 5 steps and statistics every 3, which took both K-FACs to the target in
// fewer steps on seeds 1–3 than the defaults (README) at a lower cost a
// step: the largest factor is 73×73.
var convKFAC = kfacSpec{damping: 1e-3, factors: "mc", decay: 0.95, statsInterval: 3, statsFraction: 0.25, modelFraction: 0.25, inverseInterval: 5, dampingInterval: 5}

// lenetKFAC is K-FAC's settings of LeNet on MNIST: λ = 1e-3 and inverses
// every 5 steps, with the statistics (every step) and the quadratic model
// on half the batch, which ended its 500 steps at the lowest training loss
// of the four settings tried (README).
var lenetKFAC = kfacSpec{damping: 1e-3, factors: "mc", decay: 0.95, statsInterval: 1, statsFraction: 0.5, modelFraction: 0.5, inverseInterval: 5, dampingInterval: 5}

// resKFAC is K-FAC's settings of the residual MLP: secondorder.KFAC's
// defaults but for the quadratic model on half the batch, which took 180–190
// steps to the target on seeds 1–3 against 290–350 on a quarter (README).
var resKFAC = kfacSpec{damping: 1e-2, factors: "mc", decay: 0.95, statsInterval: 1, statsFraction: 0.25, modelFraction: 0.5, inverseInterval: 20, dampingInterval: 5}

// tasks are the tasks by -task name, "cnn-mnist" for -task cnn -mnist.
var tasks = map[string]taskSpec{
	"autoencode": {optimizers: "kfac,adam,sgd", adamLRs: "0.003,0.01,0.03", sgdLRs: "0.01,0.03,0.1", kfac: mlpKFAC},
	"classify":   {optimizers: "kfac,adam,sgd", adamLRs: "0.03,0.1,0.3", sgdLRs: "0.3,1,3", kfac: mlpKFAC},
	"cnn":        {optimizers: "kfac,kfac-reduce,adam,sgd", adamLRs: "0.01,0.03,0.1", sgdLRs: "0.3,1,3", kfac: convKFAC},
	"cnn-mnist":  {optimizers: "kfac,kfac-reduce,adam,sgd", adamLRs: "0.003,0.01,0.03", sgdLRs: "0.1,0.3,1", kfac: lenetKFAC},
	"resmlp":     {optimizers: "kfac,adam,sgd", adamLRs: "0.01,0.03,0.1", sgdLRs: "0.03,0.1,0.3", kfac: resKFAC},
}

// taskNames lists the tasks for messages.
const taskNames = "autoencode, classify, cnn or resmlp"

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("kfacbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var sizes, acts, opts, adamLRs, sgdLRs, ngLRs, factors, trainRows string
	var seed int64
	fs.StringVar(&c.task, "task", "", "autoencode (reconstruct the inputs, sigmoid cross-entropy), classify (an MLP, softmax cross-entropy), cnn (a convolutional net on 1×8×8 digits, LeNet-style on MNIST with -mnist) or resmlp (a residual MLP with LayerNorm); default autoencode for the embedded digits, classify for -data")
	fs.StringVar(&c.dataPath, "data", "", "CSV file, a row = inputs then a class index 0, 1, …; a first line that is not numeric is a header (default: the embedded digits)")
	fs.BoolVar(&c.mnist, "mnist", false, "-task cnn: train the LeNet-style net on MNIST's 28×28 images instead of the 8×8 digits")
	fs.StringVar(&c.mnistDir, "mnist-dir", "", "folder of MNIST's four idx files (default: the module cache's copy of "+data.MNISTModule+")")
	fs.IntVar(&c.testRows, "test", 2000, "-mnist: held-out images, the first N of MNIST's 10,000 test images")
	fs.StringVar(&sizes, "sizes", "", "MLP layer sizes, input first (default 64,48,32,16,32,48,64 to autoencode, 64,32,10 to classify; the ends must match the data)")
	fs.StringVar(&acts, "activations", "tanh", "MLP hidden activation, or one per layer (comma-separated); the output layer is linear (logits)")
	fs.IntVar(&c.batch, "batch", 256, "mini-batch size")
	fs.IntVar(&c.steps, "steps", 2000, "step budget of every run; 500 with -mnist unless given")
	fs.StringVar(&trainRows, "train", "", "training rows, a count (1500) or a fraction of the rows (0.8); the rest are held out (default 1500 of the embedded digits' 1797, 0.8 of a -data file, the first 10000 of MNIST's 60,000 images)")
	fs.Int64Var(&seed, "seed", 1, "seed of the split, the initialisation, the batches and K-FAC's sampled labels")
	fs.StringVar(&opts, "optimizers", "", "optimizers to run: "+optimizerList()+" (default kfac,adam,sgd; kfac,kfac-reduce,adam,sgd for -task cnn)")
	fs.Float64Var(&c.target, "target", 0, "target training loss (default: the best loss a tuned baseline reaches in -steps)")
	fs.IntVar(&c.evalEvery, "eval-every", 10, "steps between evaluations of the full training and held-out loss; 25 with -mnist unless given")
	fs.StringVar(&c.out, "out", "", "output folder (default: a fresh kfacbench-out-N)")
	fs.BoolVar(&c.force, "force", false, "write into -out even if it holds files")
	fs.Float64Var(&c.maxMemory, "max-memory", 4096, "refuse a network and data whose estimated memory (printed at the start) exceeds this many MiB")
	fs.StringVar(&adamLRs, "adam-lrs", "", "Adam's learning-rate grid (default: the task's, see README)")
	fs.StringVar(&sgdLRs, "sgd-lrs", "", "SGD's learning-rate grid (default: the task's, see README)")
	fs.StringVar(&ngLRs, "ng-lrs", "0.03,0.1,0.3", "natural gradient's learning-rate grid")
	fs.Float64Var(&c.momentum, "momentum", 0.9, "momentum of SGD and natural gradient")
	fs.Float64Var(&c.damping, "damping", 0, "K-FAC's initial damping λ, adapted, floor min(1e-3, λ) (default: the task's, see README)")
	fs.Float64Var(&c.ngDamping, "ng-damping", 0.1, "natural gradient's fixed damping λ")
	fs.StringVar(&factors, "factors", "", "K-FAC's G factors: mc (sampled labels), exact (output-Hessian factor) or empirical (default: the task's, see README)")
	fs.Float64Var(&c.decay, "decay", 0, "K-FAC: largest weight of the old statistics in the running averages (default: the task's, see README)")
	fs.IntVar(&c.statsInterval, "stats-interval", 0, "K-FAC: steps between factor statistics (default: the task's, see README)")
	fs.Float64Var(&c.statsFraction, "stats-fraction", 0, "K-FAC: fraction of the batch the statistics use (default: the task's, see README)")
	fs.Float64Var(&c.modelFraction, "model-fraction", 0, "K-FAC: fraction of the batch for the quadratic model's Fisher products (and its ρ) (default: the task's, see README)")
	fs.Float64Var(&c.hfFraction, "hf-fraction", 1, "Hessian-free: fraction of the batch for the curvature mini-batch")
	fs.IntVar(&c.inverseInterval, "inverse-interval", 0, "K-FAC: steps between inversions of the damped factors (default: the task's, see README)")
	fs.IntVar(&c.dampingInterval, "damping-interval", 0, "K-FAC: steps between damping updates (default: the task's, see README)")
	var err error
	if c.seed, c.targetSet, err = tune.ParseFlags(fs, args, &seed); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if c.task == "" {
		// A -data file ends in a class label, which an autoencoder would
		// ignore.
		c.task = "autoencode"
		if c.dataPath != "" {
			c.task = "classify"
		}
	}
	key := c.task
	switch {
	case tasks[c.task].optimizers == "":
		return nil, fmt.Errorf("-task %q: want %s", c.task, taskNames)
	case c.mnist && c.task != "cnn":
		return nil, fmt.Errorf("-mnist trains -task cnn, not %s (examples/mnistae is the MNIST autoencoder)", c.task)
	case c.mnist && c.dataPath != "":
		return nil, errors.New("-mnist and -data both name the data; give one")
	case c.mnist:
		key = "cnn-mnist"
	case !c.mnist && (given["mnist-dir"] || given["test"]):
		return nil, errors.New("-mnist-dir and -test are for -mnist")
	case c.task == "cnn" && c.dataPath != "":
		return nil, errors.New("-task cnn trains on the embedded digits as 1×8×8 images, or on MNIST with -mnist, not on -data")
	case (sizes != "" || given["activations"]) && c.task != "autoencode" && c.task != "classify":
		return nil, fmt.Errorf("-sizes and -activations are for the MLP tasks (autoencode, classify); -task %s has a fixed network (README)", c.task)
	}
	spec := tasks[key]
	if c.mnist {
		if !given["steps"] {
			c.steps = 500
		}
		if !given["eval-every"] {
			c.evalEvery = 25
		}
		if c.testRows <= 0 || c.testRows > 10000 {
			return nil, fmt.Errorf("-test %d: must be in 1…10000", c.testRows)
		}
	}
	if c.trainRows, c.trainFrac, err = parseTrain(trainRows, c.dataPath == "", c.mnist); err != nil {
		return nil, fmt.Errorf("-train: %w", err)
	}
	if sizes != "" {
		if c.sizes, err = parseInts(sizes); err != nil {
			return nil, fmt.Errorf("-sizes: %w", err)
		}
		if len(c.sizes) < 2 {
			return nil, fmt.Errorf("-sizes %s: give the input size and at least one layer", sizes)
		}
	}
	c.activations = splitList(acts)
	if opts == "" {
		opts = spec.optimizers
	}
	if c.optimizers = splitList(opts); len(c.optimizers) == 0 {
		return nil, fmt.Errorf("-optimizers is empty; want some of %s", optimizerList())
	}
	for i, o := range c.optimizers {
		if _, ok := knownOptimizers[o]; !ok {
			return nil, fmt.Errorf("-optimizers: unknown %q; want some of %s", o, optimizerList())
		}
		if slices.Contains(c.optimizers[:i], o) {
			return nil, fmt.Errorf("-optimizers names %s twice", o)
		}
	}
	if adamLRs == "" {
		adamLRs = spec.adamLRs
	}
	if sgdLRs == "" {
		sgdLRs = spec.sgdLRs
	}
	if c.adamLRs, err = parseFloats(adamLRs); err != nil {
		return nil, fmt.Errorf("-adam-lrs: %w", err)
	}
	if c.sgdLRs, err = parseFloats(sgdLRs); err != nil {
		return nil, fmt.Errorf("-sgd-lrs: %w", err)
	}
	if c.ngLRs, err = parseFloats(ngLRs); err != nil {
		return nil, fmt.Errorf("-ng-lrs: %w", err)
	}
	c.taskKFAC(spec.kfac, given, &factors)
	if c.factors, err = approx.ParseFactorKind(factors); err != nil {
		return nil, fmt.Errorf("-factors: %w", err)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"batch", c.batch}, {"steps", c.steps}, {"eval-every", c.evalEvery},
		{"stats-interval", c.statsInterval}, {"inverse-interval", c.inverseInterval}, {"damping-interval", c.dampingInterval}} {
		if p.v <= 0 {
			return nil, fmt.Errorf("-%s %d: must be positive", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"target", c.target, c.target >= 0},
		{"momentum", c.momentum, c.momentum >= 0 && c.momentum < 1},
		{"damping", c.damping, c.damping > 0},
		{"ng-damping", c.ngDamping, c.ngDamping > 0},
		{"decay", c.decay, c.decay > 0 && c.decay < 1},
		{"stats-fraction", c.statsFraction, c.statsFraction > 0 && c.statsFraction <= 1},
		{"model-fraction", c.modelFraction, c.modelFraction > 0 && c.modelFraction <= 1},
		{"hf-fraction", c.hfFraction, c.hfFraction > 0 && c.hfFraction <= 1},
		{"max-memory", c.maxMemory, c.maxMemory > 0},
	} {
		if !p.ok || math.IsNaN(p.v) || math.IsInf(p.v, 0) {
			return nil, fmt.Errorf("-%s %v is out of range", p.name, p.v)
		}
	}
	if !c.targetSet && !slices.ContainsFunc(c.optimizers, func(o string) bool { return tune.IsBaseline(o) }) {
		return nil, fmt.Errorf("-optimizers %s has no first-order baseline to set the target: add adam or sgd, or give -target", strings.Join(c.optimizers, ","))
	}
	return c, nil
}

// taskKFAC sets each of K-FAC's settings whose flag was not given to the
// task's.
func (c *config) taskKFAC(k kfacSpec, given map[string]bool, factors *string) {
	for _, s := range []struct {
		flag string
		set  func()
	}{
		{"damping", func() { c.damping = k.damping }},
		{"factors", func() { *factors = k.factors }},
		{"decay", func() { c.decay = k.decay }},
		{"stats-interval", func() { c.statsInterval = k.statsInterval }},
		{"stats-fraction", func() { c.statsFraction = k.statsFraction }},
		{"model-fraction", func() { c.modelFraction = k.modelFraction }},
		{"inverse-interval", func() { c.inverseInterval = k.inverseInterval }},
		{"damping-interval", func() { c.dampingInterval = k.dampingInterval }},
	} {
		if !given[s.flag] {
			s.set()
		}
	}
}

// kfacNote says the K-FAC settings of the run.
func (c *config) kfacNote() string {
	return fmt.Sprintf("K-FAC: damping %g (adapted every %d steps), %s factors, statistics every %d steps on %g of the batch (running averages, decay %g), inverses every %d steps, quadratic model on %g of the batch",
		c.damping, c.dampingInterval, c.factors, c.statsInterval, c.statsFraction, c.decay, c.inverseInterval, c.modelFraction)
}

// parseTrain reads -train: a count of rows (a whole number ≥ 1) or a
// fraction of them (in (0, 1)). Its default is 1,500 of the embedded
// digits' 1,797 rows, the split the documented figures use, 0.8 of a
// -data file, whatever its length, and MNIST's first 10,000 training
// images, whose whole training loss an evaluation then takes in a
// fraction of a second.
func parseTrain(s string, digits, mnist bool) (rows int, frac float64, err error) {
	if s == "" {
		switch {
		case mnist:
			return 10000, 0, nil
		case digits:
			return 1500, 0, nil
		}
		return 0, 0.8, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || !(v > 0) || math.IsInf(v, 0):
		return 0, 0, fmt.Errorf("%q is not a positive count or a fraction in (0, 1)", s)
	case v < 1:
		return 0, v, nil
	case v != math.Trunc(v) || v > math.MaxInt32:
		return 0, 0, fmt.Errorf("%q is neither a whole count of rows nor a fraction in (0, 1)", s)
	}
	return int(v), 0, nil
}

// grid returns the learning rates tuned for optimizer name (none for
// K-FAC, whose step size comes from its quadratic model).
func (c *config) grid(name string) []float64 {
	switch name {
	case "adam":
		return c.adamLRs
	case "sgd":
		return c.sgdLRs
	case "ng-diag", "ng-block", "ng-kfac", "ng-ekfac":
		return c.ngLRs
	}
	return nil
}

// gridFlag names the flag prefix of optimizer name's grid.
func gridFlag(name string) string {
	if strings.HasPrefix(name, "ng-") {
		return "ng"
	}
	return name
}

func optimizerList() string {
	return "kfac, kfac-reduce, adam, sgd, hf, ng-diag, ng-block, ng-kfac, ng-ekfac"
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}
