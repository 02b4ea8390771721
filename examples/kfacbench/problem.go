package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/tune"
)

// problem is the data, the network and the loss every optimizer trains,
// from the same initial parameters.
type problem struct {
	name     string
	classify bool
	model    *curvature.Model
	// network describes the network: an MLP's sizes and activations, or
	// a fixed task's layers.
	network     string
	train, test *data.Set // targets are the inputs when autoencoding
	theta0      []float64
	scaling     string // how a -data file's inputs were scaled
	memory      memory
}

func (p *problem) describe() string { return p.network }

func loadProblem(c *config, stdout io.Writer) (*problem, error) {
	p := &problem{classify: c.task != "autoencode"}
	var err error
	if c.mnist {
		if p.train, p.test, err = loadMNIST(c); err != nil {
			return nil, err
		}
		p.name = "MNIST"
		p.model = &curvature.Model{Loss: nn.SoftmaxCrossEntropy{}}
	} else if p.train, p.test, err = splitData(c, p, stdout); err != nil {
		return nil, err
	}
	d := p.train.InputDim()
	var net *nn.Network
	switch c.task {
	case "cnn":
		net, p.network, err = convNet(d)
	case "resmlp":
		net, p.network, err = residualMLP(d, p.train.Classes)
	default:
		net, p.network, err = mlp(c, d, p.train.Classes, p.classify)
	}
	if err != nil {
		return nil, err
	}
	p.model.Net = net
	// Check the memory before anything sized by the network is allocated
	// (a network holds its shape only).
	p.memory = estimateMemory(c, net, p.train.Len(), p.test.Len())
	if limit := c.maxMemory * (1 << 20); p.memory.total() > limit {
		return nil, fmt.Errorf("network %s on %d rows needs about %s (%s), more than -max-memory %g MiB; check -sizes and the data, or raise -max-memory",
			p.describe(), p.train.Len()+p.test.Len(), mib(p.memory.total()), p.memory, c.maxMemory)
	}
	p.theta0 = make([]float64, net.NumParams())
	net.Init(p.theta0, rand.New(rand.NewPCG(c.seed, 2)))
	return p, nil
}

// splitData splits the embedded digits or a -data file into training and
// held-out rows, scales a file's inputs for p's task and sets p's name,
// loss and scaling note.
func splitData(c *config, p *problem, stdout io.Writer) (train, test *data.Set, err error) {
	var set *data.Set
	p.name = "digits"
	if c.dataPath == "" {
		set, err = data.Digits()
	} else {
		p.name = c.dataPath
		set, err = loadLabelled(c.dataPath, stdout)
	}
	if err != nil {
		return nil, nil, err
	}
	frac := c.trainFrac
	if c.trainRows > 0 {
		if c.trainRows >= set.Len() {
			return nil, nil, fmt.Errorf("-train %d leaves no held-out rows of %d; give fewer rows or a fraction such as -train 0.8", c.trainRows, set.Len())
		}
		frac = float64(c.trainRows) / float64(set.Len())
	}
	rng := rand.New(rand.NewPCG(c.seed, 1))
	if train, test, err = set.Split(frac, rng); err != nil {
		return nil, nil, fmt.Errorf("-train: %w", err)
	}
	if p.classify {
		if c.dataPath != "" { // the digits are already in [0, 1]
			data.Standardize(train, test)
			p.scaling = "inputs standardised to the training rows' mean and standard deviation"
		}
		p.model = &curvature.Model{Loss: nn.SoftmaxCrossEntropy{}}
		return train, test, nil
	}
	if c.dataPath != "" {
		minMaxScale(train.X, test.X)
		p.scaling = "inputs scaled to [0, 1] by the training rows' minimum and maximum, the class labels ignored"
	}
	p.model = &curvature.Model{Loss: nn.SigmoidBCE{}}
	return &data.Set{X: train.X, Y: train.X}, &data.Set{X: test.X, Y: test.X}, nil
}

// loadMNIST returns the first -train of MNIST's training images and the
// first -test of its test images.
func loadMNIST(c *config) (train, test *data.Set, err error) {
	all, allTest, err := data.MNIST(c.mnistDir)
	if err != nil {
		return nil, nil, err
	}
	n := c.trainRows
	if n == 0 {
		n = int(c.trainFrac * float64(all.Len()))
	}
	if n < 1 || n > all.Len() {
		return nil, nil, fmt.Errorf("-train %d: MNIST has %d training images", n, all.Len())
	}
	train, test = all.Subset(firstRows(n)), allTest.Subset(firstRows(c.testRows))
	// The images not used: returned to the system now, not while the
	// runs are timed.
	all, allTest = nil, nil
	debug.FreeOSMemory()
	return train, test, nil
}

func firstRows(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// loadLabelled reads a CSV whose last column is a class index, inferring
// the number of classes from the largest label. A first line with a field
// that is not a number is taken for a header and skipped (and said so).
func loadLabelled(path string, stdout io.Writer) (*data.Set, error) {
	opt := data.CSVOptions{Targets: 1}
	header, err := headerField(path)
	if err != nil {
		return nil, err
	}
	if header != "" {
		fmt.Fprintf(stdout, "%s: line 1 is a header (%q is not a number); skipped\n", path, header)
		opt.Skip = 1
	}
	set, err := data.LoadCSV(path, opt)
	if err != nil {
		return nil, err
	}
	top, at := 0.0, 0
	for i := 0; i < set.Len(); i++ {
		if v := set.Y.At(i, 0); v > top {
			top, at = v, i
		}
	}
	// A class needs at least one row: more classes than rows means a label
	// that is not a class index (one mistyped label would otherwise size
	// the output layer).
	if top >= float64(set.Len()) {
		return nil, fmt.Errorf("%s: label %.15g of data row %d would make %.0f classes, more than the %d rows; the last column must be a class index 0, 1, …, k−1",
			path, top, at+1, math.Floor(top)+1, set.Len())
	}
	set.Classes = int(top) + 1
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("%s: the last column must be a class index 0, 1, …: %w", path, err)
	}
	if set.Classes < 2 {
		return nil, fmt.Errorf("%s: labels hold one class; need at least 2", path)
	}
	return set, nil
}

// headerField returns the first field of the file's first line that is
// not a number, or "" when every field is one (or the line is blank).
func headerField(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	if magic, _ := r.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return "", fmt.Errorf("%s: gzip: %w", path, err)
		}
		defer zr.Close()
		r = bufio.NewReader(zr)
	}
	line, err := r.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
	if line == "" {
		return "", nil
	}
	for _, field := range strings.Split(line, ",") {
		field = strings.TrimSpace(field)
		// Out-of-range and non-finite numbers are numbers: the loader
		// reports them.
		if _, err := strconv.ParseFloat(field, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return field, nil
		}
	}
	return "", nil
}

// minMaxScale maps every column of train to [0, 1] and applies the same map
// to test (clamped), so the sigmoid cross-entropy has valid targets.
func minMaxScale(train, test *mat.Dense) {
	_, c := train.Dims()
	for j := 0; j < c; j++ {
		col := mat.Col(nil, j, train)
		lo, hi := col[0], col[0]
		for _, v := range col {
			lo, hi = min(lo, v), max(hi, v)
		}
		scale := 0.0
		if hi > lo {
			scale = 1 / (hi - lo)
		}
		for _, m := range []*mat.Dense{train, test} {
			r, _ := m.Dims()
			for i := 0; i < r; i++ {
				m.Set(i, j, min(1, max(0, (m.At(i, j)-lo)*scale)))
			}
		}
	}
}

// correct returns the number of rows of the logits z whose largest entry
// is at the class index of y.
func correct(z, y *mat.Dense) float64 {
	n, _ := z.Dims()
	right := 0
	for i := 0; i < n; i++ {
		row := z.RawRowView(i)
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if best == int(y.At(i, 0)) {
			right++
		}
	}
	return float64(right)
}

// memory is an estimate, in bytes, of what the runs hold at once that
// grows with the network and the data (two tuning runs at a time, each
// with its own optimizer), for refusing an absurd size before allocating
// it. The data set itself is already loaded.
type memory struct {
	// params: 16 P-vectors a run (θ, gradient, the optimizer's state and
	// scratch; Hessian-free's CG keeps the most).
	params float64
	// factors: K-FAC's and EKFAC's factors, their running averages and
	// damped inverses or eigenbases, 4 copies of Σ p² + q² over the
	// Kronecker layers (out² + (in+1)² for a dense layer) and of the
	// other layers' exact blocks.
	factors float64
	// blocks: ng-block's per-layer blocks and their Cholesky factors,
	// 2 × Σ P_l² over the layers' parameter counts.
	blocks float64
	// activations: the evaluation of the training and held-out loss (in
	// chunks of tune.EvalRows rows), and the batch tapes, allowing two
	// values a unit (outputs and derivatives) and eight tapes a batch,
	// each with a convolution's unfolded patches.
	activations float64
}

func (m memory) total() float64 { return m.params + m.factors + m.blocks + m.activations }

func (m memory) String() string {
	s := fmt.Sprintf("parameters and optimizer state %s", mib(m.params))
	if m.factors > 0 {
		s += fmt.Sprintf(", K-FAC factors %s", mib(m.factors))
	}
	if m.blocks > 0 {
		s += fmt.Sprintf(", ng-block's blocks %s", mib(m.blocks))
	}
	return s + fmt.Sprintf(", activations %s", mib(m.activations))
}

// estimateMemory estimates the memory of c's runs of net on rows training
// and test held-out rows, in float64 arithmetic so that an absurd size
// cannot overflow. A network holds its shape only, so it can be built
// before this check.
func estimateMemory(c *config, net *nn.Network, rows, test int) memory {
	const runs, f = 2, 8 // runs at a time, bytes a float
	var blocks float64
	kron, patches := curvatureFloats(net)
	units := float64(net.InSize())
	for _, l := range net.Layers {
		P := float64(l.NumParams())
		blocks += P * P
		// An activation's output is counted as its input's: the unit
		// before it.
		if _, ok := l.(nn.Pointwise); !ok {
			units += float64(l.OutSize())
		}
	}
	// Evaluations take the rows in chunks; K-FAC's statistics unfold a
	// batch's patches.
	eval := float64(min(max(rows, test), tune.EvalRows))
	m := memory{
		params:      f * runs * 16 * float64(net.NumParams()),
		activations: f * runs * (units*2*eval + (units+patches)*8*float64(c.batch)),
	}
	for _, o := range c.optimizers {
		switch o {
		case "kfac", "kfac-reduce", "ng-kfac", "ng-ekfac":
			m.factors = f * runs * 4 * kron
		case "ng-block":
			m.blocks = f * runs * 2 * blocks
		}
	}
	return m
}

// curvatureFloats returns the floats of K-FAC's factors of net, Σ p² + q²
// over its Kronecker layers and the exact blocks of the others, and the
// floats a sample's unfolded patches take (those of the layers with several
// weight-sharing positions).
func curvatureFloats(net *nn.Network) (kron, patches float64) {
	for _, l := range net.Layers {
		P := float64(l.NumParams())
		switch nn.StructureOf(l) {
		case nn.KroneckerBlock:
			p, q, R := l.(nn.Kronecker).KronShape()
			kron += float64(p)*float64(p) + float64(q)*float64(q)
			if R > 1 {
				patches += float64(R) * float64(q)
			}
		case nn.DiagonalBlock:
			kron += P
		default:
			kron += P * P
		}
	}
	return kron, patches
}

// mib formats a number of bytes.
func mib(b float64) string {
	for _, u := range []string{"B", "KiB", "MiB", "GiB", "TiB"} {
		if b < 1024 || u == "TiB" {
			return fmt.Sprintf("%.1f %s", b, u)
		}
		b /= 1024
	}
	panic("unreachable")
}

// memoryNote tells what the runs hold, and what K-FAC's factors hold
// against one dense P×P curvature matrix (never built here).
func memoryNote(p *problem, limit float64) string {
	kron, _ := curvatureFloats(p.model.Net)
	P := float64(p.model.Net.NumParams())
	dense := P * P
	return fmt.Sprintf("memory: about %s for the runs (-max-memory %g MiB); K-FAC factors %.0f floats (%s); a dense curvature matrix would take %.0f floats (%s), %.0f× more",
		mib(p.memory.total()), limit, kron, mib(8*kron), dense, mib(8*dense), dense/kron)
}
