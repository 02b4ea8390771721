package curvature

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/vec"
)

// chunk bounds the samples one pass handles, and with it the per-sample
// work matrices of the Kronecker assembly.
const chunk = 256

// Dense returns the curvature matrix kind of m at θ on the batch, P×P.
//
// Hessian, GGN and Fisher are assembled from per-sample Kronecker structure
// when the network is an MLP — nn.Affine layers, each followed by at most
// one nn.Pointwise activation, no skip edges (one matrix product with
// inner dimension N per pair of layers) — and from matrix-free
// products otherwise. The empirical Fisher, the gradient covariance and the
// Monte-Carlo Fisher are Gram matrices of per-sample gradients from one
// backward pass. The batch is split over opt.Workers goroutines whose sums
// merge exactly (see Sum). Before anything is built, P² is checked against
// opt.Budget.
func (m *Model) Dense(kind Kind, theta []float64, b Batch, opt *Options) (*mat.SymDense, error) {
	s, err := m.DenseSum(kind, theta, b, opt)
	if err != nil {
		return nil, err
	}
	return s.Mean(), nil
}

// Block returns layer block k of the curvature matrix kind (k indexes
// ParamBlocks), without forming the rest of the matrix.
func (m *Model) Block(kind Kind, k int, theta []float64, b Batch, opt *Options) (*mat.SymDense, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	blocks := m.ParamBlocks()
	if k < 0 || k >= len(blocks) {
		return nil, fmt.Errorf("curvature: layer block %d out of range [0, %d)", k, len(blocks))
	}
	s, err := m.sum(kind, theta, b, opt, k)
	if err != nil {
		return nil, err
	}
	return s.Mean(), nil
}

// DenseSum returns the curvature matrix kind as a Sum over the batch's
// samples, to merge with sums over other batches.
func (m *Model) DenseSum(kind Kind, theta []float64, b Batch, opt *Options) (*Sum, error) {
	return m.sum(kind, theta, b, opt, -1)
}

// sum builds the Sum of the whole matrix (block < 0) or of one layer block.
func (m *Model) sum(kind Kind, theta []float64, b Batch, opt *Options, block int) (*Sum, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if kind < 0 || int(kind) >= len(kindNames) {
		return nil, fmt.Errorf("curvature: unknown matrix kind %v", kind)
	}
	lo, hi := 0, m.Net.NumParams()
	what := kind.String()
	if block >= 0 {
		r := m.ParamBlocks()[block]
		lo, hi = r[0], r[1]
		what = fmt.Sprintf("%v block %d", kind, block)
	}
	size := hi - lo
	if err := CheckBudget(what, size, opt.budget()); err != nil {
		return nil, err
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	var ys []*mat.Dense
	draws := 1
	if kind == MCFisher {
		draws = opt.samples()
		var err error
		if ys, err = m.sampleTargets(theta, b, draws, opt); err != nil {
			return nil, err
		}
	}

	// Contiguous parts, one per worker, each summed in chunks; merged in
	// order, so the numbers depend on the worker count, never on timing.
	n := b.Len()
	workers := opt.workers(n, DenseFloats(size))
	sums := make([]*Sum, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Sum{Kind: kind, Draws: draws, S: mat.NewSymDense(size, nil)}
			if kind == GradientCovariance {
				s.G = make([]float64, size)
			}
			for c0 := w * n / workers; c0 < (w+1)*n/workers; c0 += chunk {
				c1 := min(c0+chunk, (w+1)*n/workers)
				part, err := m.chunkSum(kind, theta, rows(b, c0, c1), sliceRows(ys, c0, c1), lo, hi, block)
				if err != nil {
					errs[w] = err
					return
				}
				if s.N == 0 {
					s = part
				} else if err := s.Merge(part); err != nil {
					panic(err) // same kind and size by construction
				}
			}
			sums[w] = s
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, s := range sums[1:] {
		if err := sums[0].Merge(s); err != nil {
			return nil, err
		}
	}
	return sums[0], nil
}

// chunkSum returns the Sum over one chunk of validated samples. A sum that
// is not finite is an error (wrapping ErrNonFinite), unless it came from
// the Kronecker assembly, whose products of inputs can overflow (ā āᵀ with
// ā ~ 1e155) where the matrix itself is finite: that chunk is then summed
// again from matrix-free products, so that every route gives the same
// numbers.
func (m *Model) chunkSum(kind Kind, theta []float64, b Batch, ys []*mat.Dense, lo, hi, block int) (*Sum, error) {
	n := b.Len()
	size := hi - lo
	s := &Sum{Kind: kind, N: n, Draws: max(1, len(ys)), W: b.weightSum(), S: mat.NewSymDense(size, nil)}
	if kind == GradientCovariance {
		s.G = make([]float64, size)
	}
	if s.W == 0 {
		return s, nil // every sample weighs 0
	}
	switch kind {
	case Hessian, GGN, Fisher:
		if shape, ok := mlpOf(m.Net); ok {
			t, _ := m.tape(theta, b, nil)
			oc := newOutputCurv(kind, m.Loss, t)
			if block >= 0 {
				a := newAssembler(shape, t, oc, kind == Hessian, block)
				writeBlock(s.S, 0, 0, a.block(block, block, false))
			} else {
				a := newAssembler(shape, t, oc, kind == Hessian, 0)
				for mi := range shape.dense {
					for l := 0; l <= mi; l++ {
						writeBlock(s.S, a.layers[mi].lo, a.layers[l].lo, a.block(mi, l, kind == Hessian))
					}
				}
			}
			if finiteSym(s.S) {
				return s, nil
			}
		}
		op, _ := m.Operator(kind, theta, b, nil)
		var sub Operator = op
		if block >= 0 {
			sub = Restrict(op, lo, hi)
		}
		mean, _ := Materialize(sub, Unlimited) // the size was checked before the chunks
		s.S.ScaleSym(s.W, mean)
	case EmpiricalFisher, GradientCovariance:
		per := mat.NewDense(n, m.Net.NumParams(), nil)
		m.tape(theta, b, per)
		g := mat.DenseCopyOf(per.Slice(0, n, lo, hi))
		if kind == GradientCovariance {
			for i := 0; i < n; i++ {
				floats.AddScaled(s.G, b.weight(i), g.RawRowView(i))
			}
			center(g, s.G, s.W)
		}
		sqrtWeigh(g, b.W)
		addGram(s.S, g)
	case MCFisher:
		t := nn.NewTape(m.Net, m.Loss)
		per := mat.NewDense(n, m.Net.NumParams(), nil)
		t.Forward(theta, b.X)
		for _, y := range ys {
			t.Backward(nil, per, y)
			g := mat.DenseCopyOf(per.Slice(0, n, lo, hi))
			sqrtWeigh(g, b.W)
			addGram(s.S, g)
		}
	}
	if !finiteSym(s.S) {
		i, j, v := firstNonFiniteSym(s.S)
		return nil, fmt.Errorf("curvature: %v: %w: entry (%d, %d) is %v", kind, ErrNonFinite, i, j, v)
	}
	return s, nil
}

// finiteSym reports whether the upper triangle of m is finite.
func finiteSym(m *mat.SymDense) bool {
	raw := m.RawSymmetric()
	for i := 0; i < raw.N; i++ {
		if !vec.AllFinite(raw.Data[i*raw.Stride+i : i*raw.Stride+raw.N]) {
			return false
		}
	}
	return true
}

// firstNonFiniteSym returns the first entry of m's upper triangle that is
// NaN or infinite, for an error message.
func firstNonFiniteSym(m *mat.SymDense) (i, j int, v float64) {
	n := m.SymmetricDim()
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if v := m.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return i, j, v
			}
		}
	}
	return -1, -1, 0
}

// rows returns samples [i, j) of the batch as views.
func rows(b Batch, i, j int) Batch {
	_, cx := b.X.Dims()
	_, cy := b.Y.Dims()
	part := Batch{X: b.X.Slice(i, j, 0, cx).(*mat.Dense), Y: b.Y.Slice(i, j, 0, cy).(*mat.Dense)}
	if b.W != nil {
		part.W = b.W[i:j:j]
	}
	return part
}

func sliceRows(ys []*mat.Dense, i, j int) []*mat.Dense {
	if ys == nil {
		return nil
	}
	out := make([]*mat.Dense, len(ys))
	for s, y := range ys {
		_, c := y.Dims()
		out[s] = y.Slice(i, j, 0, c).(*mat.Dense)
	}
	return out
}

// sampleTargets draws k target matrices y ~ p(y|z) at θ, sample by sample
// in order, so the labels do not depend on how the batch is split.
func (m *Model) sampleTargets(theta []float64, b Batch, k int, opt *Options) ([]*mat.Dense, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	rng := opt.rng()
	n := b.Len()
	t := nn.NewTape(m.Net, m.Loss)
	z := t.Forward(theta, b.X)
	td := m.Loss.TargetDim(m.Net.OutSize())
	ys := make([]*mat.Dense, k)
	for s := range ys {
		y := mat.NewDense(n, td, nil)
		for i := 0; i < n; i++ {
			m.Loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
		}
		ys[s] = y
	}
	return ys, nil
}

// center subtracts the weighted column mean sum/w from every row of g.
func center(g *mat.Dense, sum []float64, w float64) {
	n, _ := g.Dims()
	mean := make([]float64, len(sum))
	floats.ScaleTo(mean, 1/w, sum)
	for i := 0; i < n; i++ {
		floats.Sub(g.RawRowView(i), mean)
	}
}

// sqrtWeigh multiplies row i of g by √w_i (nothing for nil weights), so
// that the Gram matrix gᵀg is Σ_i w_i g_i g_iᵀ.
func sqrtWeigh(g *mat.Dense, w []float64) {
	for i, v := range w {
		if v != 1 {
			floats.Scale(math.Sqrt(v), g.RawRowView(i))
		}
	}
}
