package approx

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
)

// netBlock is one parameter block of a network: a layer with parameters and
// the structure its layer gives it (nn.StructureOf).
type netBlock struct {
	layer     int // index in Network.Layers
	lo, hi    int // parameter range
	structure nn.Structure
	kron      nn.Kronecker // the layer, for a Kronecker block
	p, q, r   int          // its Kronecker shape
}

// size returns the number of parameters of the block.
func (b netBlock) size() int { return b.hi - b.lo }

// floats returns what the block holds in a K-FAC: the two factors of a
// Kronecker block, the matrix of a dense one, the diagonal of a diagonal
// one.
func (b netBlock) floats() int {
	switch b.structure {
	case nn.KroneckerBlock:
		return b.p*b.p + b.q*b.q
	case nn.DiagonalBlock:
		return b.size()
	}
	return b.size() * b.size()
}

// networkBlocks returns the parameter blocks of net, in order. It returns an
// error when net has no parameters or a Kronecker layer's shape does not
// match its parameter count.
func networkBlocks(net *nn.Network) ([]netBlock, error) {
	if net == nil {
		return nil, errors.New("approx: no network")
	}
	var bs []netBlock
	for k, l := range net.Layers {
		lo, hi := net.ParamRange(k)
		if hi == lo {
			continue
		}
		b := netBlock{layer: k, lo: lo, hi: hi, structure: nn.StructureOf(l)}
		if b.structure == nn.KroneckerBlock {
			b.kron = l.(nn.Kronecker)
			b.p, b.q, b.r = b.kron.KronShape()
			if b.p <= 0 || b.q <= 0 || b.r <= 0 || b.p*b.q != hi-lo {
				return nil, fmt.Errorf("approx: layer %d (%T) has Kronecker shape %d×%d with %d positions for %d parameters", k, l, b.p, b.q, b.r, hi-lo)
			}
		}
		bs = append(bs, b)
	}
	if len(bs) == 0 {
		return nil, errors.New("approx: the network has no parameters")
	}
	return bs, nil
}

// outputVectors returns the output-space vectors whose backpropagation gives
// K-FAC's statistics, and the weight of each: the columns of the output
// Fisher's factor S_i (weight 1/W) — FisherFactor for an nn.FisherLoss, the
// output-Hessian factor otherwise, which must then have no negative
// columns — gradients at k sets of labels drawn y ~ p(y|z) one set after
// another (1/(Wk)), or the gradient at the true labels (1/W). Row i of
// every vector is multiplied by √w_i, w_i the tape's sample weights and W
// their sum (N without weights), so that Σ_i over its outer products
// weighs sample i by w_i. The matrices are taken from us and grown as
// needed.
func outputVectors(us []*mat.Dense, t *nn.Tape, y *mat.Dense, kind FactorKind, samples int, rng *rand.Rand) ([]*mat.Dense, float64, error) {
	z := t.Z()
	n, C := z.Dims()
	loss := t.Loss
	need := 1
	switch kind {
	case ExactFactors:
		need = C
	case MCFactors:
		need = samples
	}
	for len(us) < need {
		us = append(us, nil)
	}
	us = us[:need]
	for i := range us {
		us[i] = reshape(us[i], n, C)
	}
	weight := 1 / t.WeightSum()
	switch kind {
	case ExactFactors:
		sf := mat.NewDense(C, C, nil)
		f, fisher := loss.(nn.FisherLoss)
		for i := 0; i < n; i++ {
			if fisher {
				f.FisherFactor(sf, z.RawRowView(i))
			} else if neg := loss.Factor(sf, z.RawRowView(i), y.RawRowView(i)); neg > 0 {
				return us, 0, fmt.Errorf("approx: exact K-FAC factors need the output Fisher: the output Hessian factor of %s has %d negative columns (sample %d) and the loss is no nn.FisherLoss", loss.Name(), neg, i)
			}
			for c, u := range us {
				mat.Col(u.RawRowView(i), c, sf)
			}
		}
	case MCFactors:
		ys := mat.NewDense(n, loss.TargetDim(C), nil)
		for _, u := range us {
			for i := 0; i < n; i++ {
				loss.Sample(ys.RawRowView(i), z.RawRowView(i), rng)
			}
			loss.Grad(u, z, ys)
		}
		weight /= float64(samples)
	case EmpiricalFactors:
		loss.Grad(us[0], z, y)
	}
	if w := t.Weights(); w != nil {
		for _, u := range us {
			for i, wi := range w {
				floats.Scale(math.Sqrt(wi), u.RawRowView(i))
			}
		}
	}
	return us, weight, nil
}

// reshape returns m if it is r×c, and otherwise m reshaped to r×c, reusing
// its storage when large enough (nil allocates).
func reshape(m *mat.Dense, r, c int) *mat.Dense {
	if m == nil {
		m = &mat.Dense{}
	}
	if mr, mc := m.Dims(); mr != r || mc != c {
		m.Reset()
		m.ReuseAs(r, c)
	}
	return m
}

// statPass computes K-FAC's statistics of a network on a batch — one
// forward pass (the tape's) and one backward pass per output vector — into
// the running values of the blocks:
//
//	Kronecker, Expand  A ← εA + (1−ε)/(W·R) Σ_{n,r} w_n ā ā ᵀ,  G ← εG + (1−ε) w Σ_u Σ_{n,r} g gᵀ
//	Kronecker, Reduce  A ← εA + (1−ε)/(W·R²) Σ_n w_n ā_n ā_nᵀ,  G ← εG + (1−ε) w Σ_u Σ_n g_n g_nᵀ
//	                   with ā_n = Σ_r ā_{n,r}, g_n = Σ_r g_{n,r}
//	dense              B ← εB + (1−ε) w Σ_u Σ_n d dᵀ
//	diagonal           b ← εb + (1−ε) w Σ_u Σ_n d ⊙ d
//
// with w_n the tape's sample weights (1 without) and W their sum, g the
// gradients in the layer's outputs and d the layer's per-sample parameter
// gradient along the backpropagated output vector u (whose row n carries
// √w_n), and w the weight of outputVectors. For the exact factors the dense and diagonal
// blocks are then exactly the GGN's, for sampled or true labels those of the
// Monte-Carlo or empirical Fisher. It keeps its work matrices between runs.
type statPass struct {
	blocks []netBlock
	index  map[int]int // layer → block
	abar   []*mat.Dense
	wabar  []*mat.Dense // per Kronecker block, the weighted copy of abar (or its sums) A takes
	kgrad  []*mat.Dense
	per    []*mat.Dense
	us     []*mat.Dense
	asum   []*mat.Dense // per Kronecker block, the N×q sums over positions of ā (Reduce)
	gsum   []*mat.Dense // and the N×p sums of the gradients
	// coef holds, per block, the smallest coefficient c of the last run's
	// sums of outer products, c·Σ x xᵀ (see finiteSum); decayed marks the
	// blocks whose old G (or dense block) the run has already scaled by ε.
	coef    []float64
	decayed []bool
}

func newStatPass(blocks []netBlock) *statPass {
	n := len(blocks)
	s := &statPass{blocks: blocks, index: make(map[int]int, n),
		abar: make([]*mat.Dense, n), wabar: make([]*mat.Dense, n), kgrad: make([]*mat.Dense, n), per: make([]*mat.Dense, n),
		asum: make([]*mat.Dense, n), gsum: make([]*mat.Dense, n), coef: make([]float64, n), decayed: make([]bool, n)}
	for i, b := range blocks {
		s.index[b.layer] = i
	}
	return s
}

// blockDest is where a block's statistics go: the factors of a Kronecker
// block (upper triangles are written), or the matrix or diagonal of another.
type blockDest struct {
	g, a blas64.Symmetric
	m    blas64.Symmetric
	d    []float64
}

// run folds the tape's batch into dst with weight ε = decay on the old
// values (which are not read when ε = 0), with set's factors (defaulted)
// drawn from rng. visit, when not nil, is called with each Kronecker
// block's (N·R)×p gradients for each output vector, and the weight w, after
// they are folded in; the matrix is reused afterwards. It returns the error
// of outputVectors, before any statistic is changed.
//
// The old values are scaled by ε inside the symmetric rank-k updates (their
// β), the first that reaches each matrix, rather than in a pass of their
// own: at a quarter of a batch of 256, a pass over the factors cost a
// tenth of the statistics.
func (s *statPass) run(dst []blockDest, decay float64, t *nn.Tape, y *mat.Dense, set *KFACSettings, rng *rand.Rand, visit func(blk int, g *mat.Dense, w float64)) error {
	n := t.BatchSize()
	net := t.Net
	theta := t.Params()
	reduce := set.WeightSharing == Reduce
	var weight float64
	var err error
	if s.us, weight, err = outputVectors(s.us, t, y, set.Factors, set.Samples, rng); err != nil {
		return err
	}
	wsum, wts := t.WeightSum(), t.Weights()
	w := (1 - decay) * weight
	// syrk folds c·xᵀx into block i's m, scaling the old m by ε the first
	// time.
	syrk := func(i int, c float64, x *mat.Dense, m blas64.Symmetric) {
		beta := 1.0
		if !s.decayed[i] {
			beta, s.decayed[i] = decay, true
		}
		gemm.Syrk(blas.Trans, c, x.RawMatrix(), beta, m)
	}
	for i, b := range s.blocks {
		s.decayed[i], s.coef[i] = false, w
		if b.structure == nn.DiagonalBlock {
			scaleVec(dst[i].d, decay)
		}
	}
	// The A factors need only the forward pass: with a second processor
	// they are folded in beside the backward passes, which write nothing
	// they read (the tape's inputs) and no matrix they write.
	inputs := func() {
		for i, b := range s.blocks {
			if b.structure != nn.KroneckerBlock {
				continue
			}
			s.abar[i] = b.kron.KronInputs(s.abar[i], t.Input(b.layer))
			abar, scale, per := s.abar[i], wsum*float64(b.r), b.r
			if reduce && b.r > 1 {
				s.asum[i] = sumPositions(s.asum[i], abar, b.r)
				abar, scale, per = s.asum[i], wsum*float64(b.r*b.r), 1
			}
			if wts != nil {
				s.wabar[i] = sqrtWeighRows(s.wabar[i], abar, wts, per)
				abar = s.wabar[i]
			}
			gemm.Syrk(blas.Trans, (1-decay)/scale, abar.RawMatrix(), decay, dst[i].a)
			s.coef[i] = min(w, (1-decay)/scale)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait() // even if a backward pass panics
	var inputsPanic any
	if runtime.GOMAXPROCS(0) > 1 {
		wg.Go(func() {
			defer func() { inputsPanic = recover() }()
			inputs()
		})
	} else {
		inputs()
	}
	for _, u := range s.us {
		t.BackpropOutput(u, func(k int, g *mat.Dense) {
			i, ok := s.index[k]
			if !ok {
				return
			}
			b, d := s.blocks[i], dst[i]
			if b.structure == nn.KroneckerBlock {
				s.kgrad[i] = b.kron.KronGrads(s.kgrad[i], g)
				gs := s.kgrad[i]
				if reduce && b.r > 1 {
					s.gsum[i] = sumPositions(s.gsum[i], gs, b.r)
					gs = s.gsum[i]
				}
				syrk(i, w, gs, d.g)
				if visit != nil {
					visit(i, s.kgrad[i], weight)
				}
				return
			}
			s.per[i] = reshape(s.per[i], n, b.size())
			l := net.Layers[k]
			l.PerSampleVJP(s.per[i], t.Input(k), t.Output(k), net.LayerParams(theta, k), g)
			if b.structure == nn.DiagonalBlock {
				per := s.per[i].RawMatrix()
				for r := 0; r < n; r++ {
					for j, v := range per.Data[r*per.Stride : r*per.Stride+per.Cols] {
						d.d[j] += w * v * v
					}
				}
				return
			}
			syrk(i, w, s.per[i], d.m)
		})
	}
	wg.Wait()
	if inputsPanic != nil {
		panic(inputsPanic) // in the caller's goroutine, as without a second processor
	}
	// Every block is visited once per output vector; this is for a layer
	// the backward pass would skip.
	for i, b := range s.blocks {
		if !s.decayed[i] {
			switch b.structure {
			case nn.KroneckerBlock:
				scaleUpper(dst[i].g, decay)
			case nn.DenseBlock:
				scaleUpper(dst[i].m, decay)
			}
		}
	}
	return nil
}

// sqrtWeighRows stores in dst (resized to m's shape) m with each group of
// per consecutive rows — a sample's positions — multiplied by √w of its
// sample, and returns it.
func sqrtWeighRows(dst, m *mat.Dense, w []float64, per int) *mat.Dense {
	r, c := m.Dims()
	dst = reshape(dst, r, c)
	for k := 0; k < r; k++ {
		floats.ScaleTo(dst.RawRowView(k), math.Sqrt(w[k/per]), m.RawRowView(k))
	}
	return dst
}

// sumPositions stores in dst (resized to N×c) the sums over each sample's r
// consecutive rows of m ((N·r)×c) and returns it.
func sumPositions(dst, m *mat.Dense, r int) *mat.Dense {
	rows, c := m.Dims()
	dst = reshape(dst, rows/r, c)
	for n := 0; n < rows/r; n++ {
		out := dst.RawRowView(n)
		copy(out, m.RawRowView(n*r))
		for k := 1; k < r; k++ {
			floats.Add(out, m.RawRowView(n*r+k))
		}
	}
	return dst
}

// scaleUpper multiplies the upper triangle of m by c, zeroing it when c = 0
// so that old NaNs are not kept.
func scaleUpper(m blas64.Symmetric, c float64) {
	for i := 0; i < m.N; i++ {
		scaleVec(m.Data[i*m.Stride+i:i*m.Stride+m.N], c)
	}
}

// scaleVec multiplies v by c, zeroing it when c = 0.
func scaleVec(v []float64, c float64) {
	if c == 0 {
		clear(v)
		return
	}
	for j := range v {
		v[j] *= c
	}
}
