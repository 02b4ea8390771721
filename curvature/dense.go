package curvature

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/vec"
)

// chunk bounds the samples one pass handles, and with it the per-sample
// work space of the assembly.
const chunk = 256

// Dense returns the curvature matrix kind of m at θ on the batch, P×P.
//
// Hessian, GGN and Fisher are assembled from per-sample Kronecker structure
// when the network is an MLP — nn.Affine layers, each followed by at most
// one nn.Pointwise activation, no skip edges (matrix products with inner
// dimension N per pair of layers) — and from matrix-free products
// otherwise. The empirical Fisher, the gradient covariance and the
// Monte-Carlo Fisher are Gram matrices of per-sample gradients from one
// backward pass. Opt.Workers goroutines fill the one P×P result, each
// writing its own parts of it: the memory is the result's and per-layer
// work space, whatever the number of workers, and so are the numbers, bit
// for bit. Before anything is built, P² is checked against opt.Budget.
// Only the upper triangle of the result's storage is meaningful.
func (m *Model) Dense(kind Kind, theta []float64, b Batch, opt *Options) (*mat.SymDense, error) {
	s, err := m.sum(nil, kind, theta, b, opt, -1, true)
	if err != nil {
		return nil, err
	}
	return s.S, nil
}

// DenseTo stores the curvature matrix kind of m at θ on the batch in dst,
// as Dense returns it, without allocating the P×P matrix: dst must be
// empty, in which case it is resized, or P×P. Building into the same dst
// again reuses its memory, which at large P costs as much as a good part
// of the products (the operating system's zeroing of fresh pages). On an
// error dst holds no meaningful values.
func (m *Model) DenseTo(dst *mat.SymDense, kind Kind, theta []float64, b Batch, opt *Options) error {
	if err := m.check(); err != nil {
		return err
	}
	P := m.Net.NumParams()
	if dst.IsEmpty() {
		if err := CheckBudget(kind.String(), P, opt.budget()); err != nil {
			return err
		}
		dst.SetRawSymmetric(newResult(P, pool{workers: opt.workers()}).RawSymmetric())
	} else if dst.SymmetricDim() != P {
		panic(fmt.Sprintf("curvature: destination of order %d for a matrix of order %d", dst.SymmetricDim(), P))
	}
	_, err := m.sum(dst, kind, theta, b, opt, -1, true)
	return err
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
	s, err := m.sum(nil, kind, theta, b, opt, k, true)
	if err != nil {
		return nil, err
	}
	return s.S, nil
}

// DenseSum returns the curvature matrix kind as a Sum over the batch's
// samples, to merge with sums over other batches.
func (m *Model) DenseSum(kind Kind, theta []float64, b Batch, opt *Options) (*Sum, error) {
	return m.sum(nil, kind, theta, b, opt, -1, false)
}

// sum builds the whole matrix (block < 0) or one layer block in dst, or in
// a new matrix when dst is nil: divided by W·Draws (W = Σ_i w_i) as it is
// built when mean is set, the Sum's S otherwise.
func (m *Model) sum(dst *mat.SymDense, kind Kind, theta []float64, b Batch, opt *Options, block int, mean bool) (*Sum, error) {
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
	p := pool{workers: opt.workers()}
	if dst == nil {
		dst = newResult(size, p)
	}
	s := &Sum{Kind: kind, N: b.Len(), Draws: draws, W: b.weightSum(), S: dst}
	scale := 1.0
	if mean {
		scale = 1 / (s.W * float64(draws))
	}
	parts := b.chunks()
	var finite bool
	switch kind {
	case Hessian, GGN, Fisher:
		shape, ok := mlpOf(m.Net)
		free := len(parts) * size // the matrix-free route's tasks
		var tl *tally
		if ok {
			first, last := 0, len(shape.dense)-1
			if block >= 0 {
				first, last = block, block
			}
			tl = newTally(opt.progress(), len(parts)*shape.tasks(first, last))
			finite = m.kronecker(dst, shape, kind, theta, b, block, scale, p, tl)
		} else {
			tl = newTally(opt.progress(), free)
		}
		if !finite {
			if ok {
				tl.grow(free)
				// The Kronecker route overflowed (products of inputs, ā āᵀ
				// with ā ~ 1e155, can where the matrix is finite): start
				// again from matrix-free products, so that every route gives
				// the same numbers.
				raw := dst.RawSymmetric()
				for i := 0; i < size; i++ {
					clear(raw.Data[i*raw.Stride : i*raw.Stride+size])
				}
			}
			finite = m.matrixFree(dst, kind, theta, b, lo, hi, mean, p, tl)
		}
	case EmpiricalFisher, GradientCovariance, MCFisher:
		total := 0
		for _, c := range parts {
			total += draws * len(gramTasks(size, c[1]-c[0]))
		}
		s.G, finite = m.gram(dst, kind, theta, b, ys, lo, hi, scale, p, newTally(opt.progress(), total))
	}
	if !finite {
		i, j, v := firstNonFiniteSym(dst)
		return nil, fmt.Errorf("curvature: %v: %w: entry (%d, %d) is %v", kind, ErrNonFinite, i, j, v)
	}
	return s, nil
}

// kronecker writes scale·Σ_i w_i M_i, the Hessian, GGN or Fisher of an MLP
// (or its layer block) unnormalised, into dst from per-sample Kronecker
// structure, a chunk of samples at a time, and reports whether it is
// finite. tl counts the tasks.
func (m *Model) kronecker(dst *mat.SymDense, shape mlp, kind Kind, theta []float64, b Batch, block int, scale float64, p pool, tl *tally) bool {
	raw := dst.RawSymmetric()
	var finite atomic.Bool
	finite.Store(true)
	first, last, off := 0, len(shape.dense)-1, shape.lo
	if block >= 0 {
		first, last, off = block, block, make([]int, len(shape.dense))
	}
	t := nn.NewTape(m.Net, m.Loss)
	ws := newWorkspace(len(shape.dense))
	parts := b.chunks()
	for k, c := range parts {
		part := rows(b, c[0], c[1])
		t.SetWeights(part.W)
		t.Forward(theta, part.X)
		t.Backward(nil, nil, part.Y)
		a := newAssembler(shape, t, newOutputCurv(kind, m.Loss, t), kind == Hessian, first, p, ws)
		a.assemble(&target{data: raw.Data, stride: raw.Stride, alpha: scale, beta: beta(k), check: k == len(parts)-1, finite: &finite, tally: tl}, first, last, off, ws)
	}
	return finite.Load()
}

// matrixFree writes the matrix (or the block [lo, hi)) into dst from
// operator products, for networks outside the MLP pattern and where the
// Kronecker route overflowed: row j of the upper triangle from M e_j, one
// task per j, each worker multiplying by operators of its own, a chunk of
// samples at a time. It reports whether the result is finite; tl counts
// the tasks.
func (m *Model) matrixFree(dst *mat.SymDense, kind Kind, theta []float64, b Batch, lo, hi int, mean bool, p pool, tl *tally) bool {
	raw := dst.RawSymmetric()
	size := hi - lo
	var finite atomic.Bool
	finite.Store(true)
	type work struct {
		op     Operator
		e, col []float64
	}
	ws := make([]work, p.workers)
	parts := b.chunks()
	for k, c := range parts {
		part := rows(b, c[0], c[1])
		// The operator is the chunk's weighted mean.
		alpha := part.weightSum()
		if mean {
			alpha /= b.weightSum()
		}
		for w := range ws {
			ws[w].op = nil
		}
		p.run(size, func(w, j int) {
			x := &ws[w]
			if x.op == nil {
				op, _ := m.Operator(kind, theta, part, nil) // validated before
				x.op = op
				if size != op.Dim() {
					x.op = Restrict(op, lo, hi)
				}
				if x.e == nil {
					x.e, x.col = make([]float64, size), make([]float64, size)
				}
			}
			x.e[j] = 1
			x.op.MulVecTo(x.col, x.e)
			x.e[j] = 0
			row := raw.Data[j*raw.Stride+j : j*raw.Stride+size]
			if k == 0 {
				floats.ScaleTo(row, alpha, x.col[j:])
			} else {
				floats.AddScaled(row, alpha, x.col[j:])
			}
			if k == len(parts)-1 && !vec.AllFinite(row) {
				finite.Store(false)
			}
			tl.add(1)
		})
	}
	return finite.Load()
}

// gram writes scale·Σ_i w_i g_i g_iᵀ into dst, g_i the per-sample gradients
// (parameters [lo, hi)) at the true labels, at the sampled labels ys
// (MCFisher), or less their mean ḡ (GradientCovariance, whose Σ_i g_i it
// returns: ḡ, the weighted mean, comes first, so that the deviations are
// summed directly, the two-pass algorithm, accurate where the mean
// gradient is large), a chunk of samples at a time, and reports whether it
// is finite. tl counts the tasks.
func (m *Model) gram(dst *mat.SymDense, kind Kind, theta []float64, b Batch, ys []*mat.Dense, lo, hi int, scale float64, p pool, tl *tally) ([]float64, bool) {
	raw := dst.RawSymmetric()
	labels := ys
	if kind != MCFisher {
		labels = []*mat.Dense{b.Y}
	}
	var mean, sum []float64
	if kind == GradientCovariance {
		mean = m.meanGradient(theta, b)[lo:hi]
		sum = make([]float64, hi-lo)
		floats.ScaleTo(sum, b.weightSum(), mean)
	}
	gtBuf := make([]float64, min(b.Len(), chunk)*(hi-lo))
	var finite atomic.Bool
	finite.Store(true)
	m.eachPerSample(theta, b, labels, func(c0, pass int, last bool, g *mat.Dense) {
		r, _ := g.Dims()
		g = g.Slice(0, r, lo, hi).(*mat.Dense)
		if mean != nil {
			for i := 0; i < r; i++ {
				floats.Sub(g.RawRowView(i), mean)
			}
		}
		if b.W != nil {
			sqrtWeigh(g, b.W[c0:c0+r])
		}
		gt := transpose(p, gtBuf, g.RawMatrix())
		tg := &target{data: raw.Data, stride: raw.Stride, alpha: scale, beta: beta(pass), check: last, finite: &finite, tally: tl}
		tg.gram(p, gt)
	})
	return sum, finite.Load()
}

// eachPerSample calls f with the per-sample gradients (rows of all P
// parameters, unweighted) of each chunk of the batch that weighs anything,
// starting at sample c0, at each set of labels in turn (N×TargetDim each):
// pass counts the calls from 0, and last is set on the last one.
func (m *Model) eachPerSample(theta []float64, b Batch, labels []*mat.Dense, f func(c0, pass int, last bool, g *mat.Dense)) {
	P := m.Net.NumParams()
	t := nn.NewTape(m.Net, m.Loss)
	per := mat.NewDense(min(b.Len(), chunk), P, nil)
	parts := b.chunks()
	pass := 0
	for k, c := range parts {
		part := rows(b, c[0], c[1])
		g := per.Slice(0, c[1]-c[0], 0, P).(*mat.Dense)
		t.Forward(theta, part.X)
		for d, y := range sliceRows(labels, c[0], c[1]) {
			t.Backward(nil, g, y)
			f(c[0], pass, k == len(parts)-1 && d == len(labels)-1, g)
			pass++
		}
	}
}

// meanGradient returns ḡ, the gradient of the batch loss (the weighted
// mean of the per-sample gradients), a chunk of samples at a time.
func (m *Model) meanGradient(theta []float64, b Batch) []float64 {
	P := m.Net.NumParams()
	t := nn.NewTape(m.Net, m.Loss)
	g, mean := make([]float64, P), make([]float64, P)
	W := b.weightSum()
	for _, c := range b.chunks() {
		part := rows(b, c[0], c[1])
		t.SetWeights(part.W)
		t.Forward(theta, part.X)
		t.Backward(g, nil, part.Y)
		floats.AddScaled(mean, part.weightSum()/W, g)
	}
	return mean
}

// chunks returns the parts [c0, c1) of at most chunk samples in which the
// dense builds take the batch, leaving out those whose samples all weigh
// 0: they add nothing, and have no mean of their own.
func (b Batch) chunks() [][2]int {
	n := b.Len()
	var out [][2]int
	for c0 := 0; c0 < n; c0 += chunk {
		c1 := min(c0+chunk, n)
		if b.W == nil || floats.Sum(b.W[c0:c1]) > 0 {
			out = append(out, [2]int{c0, c1})
		}
	}
	return out
}

// transpose stores gᵀ in buf and returns it, in tasks of 64 rows of g.
func transpose(p pool, buf []float64, g blas64.General) blas64.General {
	r, c := g.Rows, g.Cols
	t := blas64.General{Rows: c, Cols: r, Stride: r, Data: buf[:r*c]}
	const step = 64
	p.run((c+step-1)/step, func(_, task int) {
		j0 := task * step
		j1 := min(j0+step, c)
		for i := 0; i < r; i++ {
			row := g.Data[i*g.Stride+j0 : i*g.Stride+j1]
			for j, v := range row {
				t.Data[(j0+j)*r+i] = v
			}
		}
	})
	return t
}

// beta is 0 for the first contribution to the result, which overwrites
// it, and 1 for the later ones, which add to it.
func beta(pass int) float64 {
	if pass == 0 {
		return 0
	}
	return 1
}

// gram stores α GᵀG + β C in the upper triangle of t's matrix, from gt =
// Gᵀ (n×N, the per-sample gradients in its columns, so that both operands
// of every product are read along rows): one task per slab of rows and
// slice of the columns right of its diagonal.
func (t *target) gram(p pool, gt blas64.General) {
	size, k := gt.Rows, gt.Cols
	slab := gramSlabOf(k)
	tasks := gramTasks(size, k)
	p.run(len(tasks), func(_, i int) {
		r0, c0 := tasks[i].r0, tasks[i].c0
		r1, c1 := min(r0+slab, size), min(c0+gramCols, size)
		a := blas64.General{Rows: r1 - r0, Cols: k, Stride: gt.Stride, Data: gt.Data[r0*gt.Stride:]}
		b := blas64.General{Rows: c1 - c0, Cols: k, Stride: gt.Stride, Data: gt.Data[c0*gt.Stride:]}
		t.mulInto(blas.NoTrans, blas.Trans, a, b, r0, c0)
	})
}

// gramTask is a task of a Gram matrix: the rows [r0, r0+slab) by the
// columns [c0, c0+gramCols).
type gramTask struct{ r0, c0 int }

// gramTasks lists the tasks of a Gram matrix of order size from k samples:
// each slab of rows, from its diagonal on.
func gramTasks(size, k int) []gramTask {
	slab := gramSlabOf(k)
	var tasks []gramTask
	for r0 := 0; r0 < size; r0 += slab {
		for c0 := r0; c0 < size; c0 += gramCols {
			tasks = append(tasks, gramTask{r0, c0})
		}
	}
	return tasks
}

// gramSlabOf returns the rows of a Gram slab from k samples.
func gramSlabOf(k int) int { return min(gramSlab, rowsPerProduct(gramCols, k)) }

// gramCols is the number of columns of one task of a Gram matrix, and
// gramSlab the most rows: as tall as maxWork allows at N = 256, so that the
// packing of the columns' operand, which every product does, is spread over
// many rows, and no taller, as the slab's tasks also compute the part of
// its diagonal square below the diagonal.
const gramCols, gramSlab = 64, 504

// pool runs tasks on a fixed number of goroutines, each taking the next
// task when it finishes one. Tasks that write disjoint parts of a result
// give the same result whatever the number of goroutines.
type pool struct{ workers int }

// run calls task(w, t) for every t in [0, n), w being the goroutine
// (0 ≤ w < workers), for work space of its own.
func (p pool) run(n int, task func(w, t int)) {
	workers := min(p.workers, n)
	if workers <= 1 {
		for t := 0; t < n; t++ {
			task(0, t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				t := int(next.Add(1)) - 1
				if t >= n {
					return
				}
				task(w, t)
			}
		})
	}
	wg.Wait()
}

// gemm computes C ← α op(A) B + β C on the pool, one tile of C per task,
// each product within maxWork. internal/gemm sums every entry in the same
// order whatever the shape of the product, so the tiles give the product's
// numbers.
func (p pool) gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	if tB != blas.NoTrans {
		panic("curvature: tiled product of a transposed B")
	}
	k := b.Rows
	rows := rowsPerProduct(min(c.Cols, taskCols), k)
	tg := &target{data: c.Data, stride: c.Stride, alpha: alpha, beta: beta}
	nr, nc := (c.Rows+rows-1)/rows, (c.Cols+taskCols-1)/taskCols
	p.run(nr*nc, func(_, t int) {
		r0, c0 := t/nc*rows, t%nc*taskCols
		r1, c1 := min(r0+rows, c.Rows), min(c0+taskCols, c.Cols)
		as := blas64.General{Rows: r1 - r0, Cols: a.Cols, Stride: a.Stride, Data: a.Data[r0*a.Stride:]}
		if tA != blas.NoTrans {
			as = blas64.General{Rows: a.Rows, Cols: r1 - r0, Stride: a.Stride, Data: a.Data[r0:]}
		}
		bs := blas64.General{Rows: k, Cols: c1 - c0, Stride: b.Stride, Data: b.Data[c0:]}
		tg.mulInto(tA, blas.NoTrans, as, bs, r0, c0)
	})
}

// workspace keeps the Kronecker assembly's per-layer and per-worker work
// space from one chunk of samples to the next.
type workspace struct {
	abar, dphi, d2phi []*mat.Dense
	delta, gradA      []*mat.Dense // weighted copies, per layer
	hs                [][]float64  // per layer
	tmp               [][]float64  // one
	dt, jt            [][]float64  // two each: the last and the next
	k, v              [][]float64  // per worker
}

func newWorkspace(layers int) *workspace {
	return &workspace{
		abar: make([]*mat.Dense, layers), dphi: make([]*mat.Dense, layers), d2phi: make([]*mat.Dense, layers),
		delta: make([]*mat.Dense, layers), gradA: make([]*mat.Dense, layers),
		hs: make([][]float64, layers), tmp: make([][]float64, 1), dt: make([][]float64, 2), jt: make([][]float64, 2),
	}
}

// floats returns (*s)[i] with length n, grown if it is shorter. Its
// contents are left from earlier use.
func (ws *workspace) floats(s *[][]float64, i, n int) []float64 {
	if cap((*s)[i]) < n {
		(*s)[i] = make([]float64, n)
	}
	return (*s)[i][:n]
}

// dense returns (*s)[i] as an r×c matrix, grown if it is smaller.
func (ws *workspace) dense(s *[]*mat.Dense, i, r, c int) *mat.Dense {
	if d := (*s)[i]; d != nil && cap(d.RawMatrix().Data) >= r*c {
		return mat.NewDense(r, c, d.RawMatrix().Data[:r*c])
	}
	(*s)[i] = mat.NewDense(r, c, nil)
	return (*s)[i]
}

// grow gives each of the workers k work space of kn floats and v of vn.
func (ws *workspace) grow(workers, kn, vn int) {
	for len(ws.k) < workers {
		ws.k, ws.v = append(ws.k, nil), append(ws.v, nil)
	}
	for w := 0; w < workers; w++ {
		if cap(ws.k[w]) < kn {
			ws.k[w] = make([]float64, kn)
		}
		if cap(ws.v[w]) < vn {
			ws.v[w] = make([]float64, vn)
		}
	}
}

// firstNonFiniteSym returns the first entry of m's upper triangle that is
// NaN or infinite, for an error message.
func firstNonFiniteSym(m *mat.SymDense) (i, j int, v float64) {
	raw := m.RawSymmetric()
	for i := 0; i < raw.N; i++ {
		row := raw.Data[i*raw.Stride+i : i*raw.Stride+raw.N]
		if j := vec.FirstNonFinite(row); j >= 0 {
			return i, i + j, row[j]
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

// sqrtWeigh multiplies row i of g by √w_i (nothing for nil weights), so
// that the Gram matrix gᵀg is Σ_i w_i g_i g_iᵀ.
func sqrtWeigh(g *mat.Dense, w []float64) {
	for i, v := range w {
		if v != 1 {
			floats.Scale(math.Sqrt(v), g.RawRowView(i))
		}
	}
}
