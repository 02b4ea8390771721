package curvature

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/enum"
	"github.com/curvkit/curvkit/internal/vec"
)

// Model is a network and the loss on its output.
type Model struct {
	Net  *nn.Network
	Loss nn.Loss
}

// Batch is N samples: inputs X (N×InSize, one sample a row), targets Y
// (N×TargetDim: a class index for softmax cross-entropy, the output values
// otherwise) and, optionally, sample weights W.
type Batch struct {
	X, Y *mat.Dense
	// W weighs the samples: the batch loss is L = Σ w_i ℓ_i / Σ w_i, and
	// every matrix and statistic is the same weighted mean. Nil weighs
	// every sample 1. The weights must be N, finite and ≥ 0, with a
	// positive sum; a sample of weight 0 counts as if it were not there,
	// and integer weights as if each sample were there that many times.
	W []float64
}

// Len returns N.
func (b Batch) Len() int {
	if b.X == nil {
		return 0
	}
	n, _ := b.X.Dims()
	return n
}

// Kind names a curvature matrix. Each is a mean over the batch's samples,
// written below for uniform weights: with Batch.W, Σ w_i …/Σ w_i in place of
// (1/N) Σ ….
type Kind int

const (
	Hessian            Kind = iota // ∇²_θ L
	GGN                            // (1/N) Σ J_iᵀ H_z,i J_i
	Fisher                         // (1/N) Σ E_{y~p(y|z_i)}[∇ℓ ∇ℓᵀ]; equals GGN unless the loss is an nn.FisherLoss
	MCFisher                       // Monte-Carlo Fisher: the expectation by sampled labels
	EmpiricalFisher                // (1/N) Σ g_i g_iᵀ at the true labels
	GradientCovariance             // (1/N) Σ (g_i − ḡ)(g_i − ḡ)ᵀ
)

// Kinds lists every Kind, in order.
var Kinds = []Kind{Hessian, GGN, Fisher, MCFisher, EmpiricalFisher, GradientCovariance}

var kindNames = [...]string{"hessian", "ggn", "fisher", "mc_fisher", "empirical_fisher", "gradient_covariance"}

// String returns the kind's name as used in file names and CSV columns:
// hessian, ggn, fisher, mc_fisher, empirical_fisher, gradient_covariance.
func (k Kind) String() string { return enum.Name(k, kindNames[:], "Kind") }

// ParseKind returns the Kind whose String is name.
func ParseKind(name string) (Kind, error) {
	if k, ok := enum.Parse(name, kindNames[:], Hessian); ok {
		return k, nil
	}
	return 0, fmt.Errorf("curvature: unknown matrix %q", name)
}

// Options tune how a matrix is built. The zero value, or a nil *Options, is
// valid.
type Options struct {
	// Samples is the number of labels drawn per input for MCFisher. If
	// Samples is 0, it defaults to 1.
	Samples int
	// Rand draws the MCFisher labels. If Rand is nil, a generator seeded
	// with Seed is used, so the same Seed gives the same matrix.
	Rand *rand.Rand
	Seed uint64
	// Budget is the largest dense result, in float64 values, the caller
	// accepts: 0 means DefaultBudget, a negative budget no limit.
	Budget int
	// Workers is the number of goroutines a dense matrix is built on, at
	// most GOMAXPROCS (more would only wait). They share the result, each
	// writing parts of it that no other writes, so the memory does not
	// grow with Workers and the result is the same, bit for bit, whatever
	// their number. If Workers is 0, it defaults to 2.
	Workers int
	// Progress, if not nil, hears of the dense builds (Dense, DenseTo,
	// DenseSum, Block and Diagonal) as their parts complete: for a matrix,
	// the products that write a part of the result from one chunk of at
	// most 256 samples; for a diagonal, its layers, chunks or columns.
	// Reports come at each thousandth of the total and at the end. When an
	// MLP's assembly overflows and the matrix is built again from
	// matrix-free products, the total grows by theirs and done carries on.
	Progress Progress
}

func (o *Options) samples() int {
	if o == nil || o.Samples == 0 {
		return 1
	}
	return o.Samples
}

func (o *Options) rng() *rand.Rand {
	if o == nil {
		return rand.New(rand.NewPCG(0, 0))
	}
	if o.Rand != nil {
		return o.Rand
	}
	return rand.New(rand.NewPCG(o.Seed, 0))
}

func (o *Options) budget() int {
	if o == nil {
		return 0
	}
	return o.Budget
}

// workers returns the number of goroutines that build a dense matrix.
func (o *Options) workers() int {
	w := 2
	if o != nil && o.Workers > 0 {
		w = o.Workers
	}
	return min(w, runtime.GOMAXPROCS(0))
}

// progress returns o.Progress, nil for nil options.
func (o *Options) progress() Progress {
	if o == nil {
		return nil
	}
	return o.Progress
}

func (o *Options) validate() error {
	if o != nil && o.Samples < 0 {
		return fmt.Errorf("curvature: %d Monte-Carlo samples; want at least 1", o.Samples)
	}
	if o != nil && o.Workers < 0 {
		return fmt.Errorf("curvature: negative worker count %d", o.Workers)
	}
	return nil
}

// Validate reports what is wrong with θ and the batch for m: a wrong length
// or shape, an empty batch, NaN or Inf, targets the loss cannot take.
func (m *Model) Validate(theta []float64, b Batch) error {
	if err := m.checkParams(theta); err != nil {
		return err
	}
	if b.X == nil || b.Y == nil {
		return errors.New("curvature: batch needs inputs and targets")
	}
	if err := m.checkInputs(b.X); err != nil {
		return err
	}
	n, _ := b.X.Dims()
	if ny, _ := b.Y.Dims(); ny != n {
		return fmt.Errorf("curvature: %d inputs but %d targets", n, ny)
	}
	if err := checkWeights(b.W, n); err != nil {
		return err
	}
	return m.Loss.CheckTargets(b.Y, m.Net.OutSize())
}

// checkWeights reports sample weights that are not n, finite and ≥ 0 with
// a positive sum (nil weights are uniform).
func checkWeights(w []float64, n int) error {
	if w == nil {
		return nil
	}
	if len(w) != n {
		return fmt.Errorf("curvature: %d sample weights for %d samples", len(w), n)
	}
	sum := 0.0
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("curvature: sample weight %d is %v; weights must be finite and ≥ 0", i, v)
		}
		sum += v
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return fmt.Errorf("curvature: the sample weights sum to %v; they need a positive, finite sum", sum)
	}
	return nil
}

// weightSum returns Σ w_i, N for uniform weights.
func (b Batch) weightSum() float64 {
	if b.W == nil {
		return float64(b.Len())
	}
	s := 0.0
	for _, v := range b.W {
		s += v
	}
	return s
}

// weight returns w_i, 1 for uniform weights.
func (b Batch) weight(i int) float64 {
	if b.W == nil {
		return 1
	}
	return b.W[i]
}

// checkParams reports an incomplete model and what is wrong with θ for it.
func (m *Model) checkParams(theta []float64) error {
	if err := m.check(); err != nil {
		return err
	}
	if P := m.Net.NumParams(); len(theta) != P {
		return fmt.Errorf("curvature: θ has length %d, the network has %d parameters", len(theta), P)
	}
	return checkFinite("θ", theta)
}

// checkInputs reports what is wrong with the inputs x (non-nil) for m's
// network.
func (m *Model) checkInputs(x *mat.Dense) error {
	n, c := x.Dims()
	if n == 0 {
		return errors.New("curvature: empty batch")
	}
	if c != m.Net.InSize() {
		return fmt.Errorf("curvature: inputs have %d columns, the network takes %d", c, m.Net.InSize())
	}
	for i := 0; i < n; i++ {
		row := x.RawRowView(i)
		if j := vec.FirstNonFinite(row); j >= 0 {
			return fmt.Errorf("curvature: input row %d column %d is %v", i, j, row[j])
		}
	}
	return nil
}

// errIncomplete is the error of a model without its network or loss.
var errIncomplete = errors.New("curvature: model needs a network and a loss")

// check reports a nil model or one without its network or loss: the first
// thing every method that reads the network checks.
func (m *Model) check() error {
	if m == nil || m.Net == nil || m.Loss == nil {
		return errIncomplete
	}
	return nil
}

// tape validates and returns a tape after Forward and Backward on the batch.
func (m *Model) tape(theta []float64, b Batch, perSample *mat.Dense) (*nn.Tape, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	t.Backward(nil, perSample, b.Y)
	return t, nil
}

// ParamBlocks returns the parameter range [lo, hi) of each layer that has
// parameters, in order: the layer blocks of the curvature matrices. It
// panics for a model without a network.
func (m *Model) ParamBlocks() [][2]int {
	if m == nil || m.Net == nil {
		panic("curvature: ParamBlocks of a model without a network")
	}
	var blocks [][2]int
	for k := range m.Net.Layers {
		if lo, hi := m.Net.ParamRange(k); hi > lo {
			blocks = append(blocks, [2]int{lo, hi})
		}
	}
	return blocks
}
