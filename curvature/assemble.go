package curvature

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
	"github.com/curvkit/curvkit/internal/vec"
)

// mlp is the layer structure the fast dense assembly needs: Affine layers
// (one position, ā = [x; 1] or x), each followed by at most one Pointwise
// activation, nothing else, and no skip edges.
type mlp struct {
	dense []int           // layer index of each affine layer
	act   []int           // layer index of its activation, or −1
	fn    []nn.Activation // its activation (Identity when none)
	in    []int
	out   []int
	q     []int // columns of ā: in+1 with a bias, in without
	lo    []int // first parameter of each affine layer
}

func mlpOf(net *nn.Network) (mlp, bool) {
	var s mlp
	if net.HasSkips() {
		return mlp{}, false
	}
	for k := 0; k < len(net.Layers); k++ {
		l := net.Layers[k]
		a, ok := l.(nn.Affine)
		if !ok {
			return mlp{}, false
		}
		p, q, r := a.KronShape()
		if r != 1 || p != l.OutSize() || (q != l.InSize() && q != l.InSize()+1) {
			return mlp{}, false
		}
		s.dense = append(s.dense, k)
		s.in = append(s.in, l.InSize())
		s.out = append(s.out, p)
		s.q = append(s.q, q)
		lo, _ := net.ParamRange(k)
		s.lo = append(s.lo, lo)
		if k+1 < len(net.Layers) {
			if e, ok := net.Layers[k+1].(nn.Pointwise); ok {
				s.act = append(s.act, k+1)
				s.fn = append(s.fn, e.Activation())
				k++
				continue
			}
		}
		s.act = append(s.act, -1)
		s.fn = append(s.fn, nn.Identity{})
	}
	return s, true
}

// layerState holds one affine layer's per-sample quantities on a batch.
type layerState struct {
	abar  *mat.Dense // N×q: the input, with a column of ones when there is a bias
	dphi  *mat.Dense // N×out: φ'(s)
	d2phi *mat.Dense // N×out: φ″(s)
	delta *mat.Dense // N×out: ∂ℓ_i/∂s
	gradA *mat.Dense // N×out: ∂ℓ_i/∂a, a = φ(s)
	w     blas64.General
	// hs holds ∂²ℓ_i/∂s² (or its Gauss-Newton part) of every sample,
	// neuron-major: entry (p, q) of sample i at (p·N + i)·out + q, so that
	// one matrix product carries all samples through a layer.
	hs       []float64
	in, out  int
	q        int // columns of ā
	lo, size int
}

// hrow returns row p of sample i's second derivative in s.
func (L *layerState) hrow(p, i, n int) []float64 {
	o := (p*n + i) * L.out
	return L.hs[o : o+L.out]
}

// assembler builds dense curvature matrices of an MLP from per-sample
// Kronecker structure: the block of layers (m, l) is
//
//	Σ_i (D_i ⊗ ā_m,i ā_l,iᵀ) [+ the Hessian's cross term]
//
// with D_i = M_s,m J_{m←l} out_m×out_l, M_s,m the per-sample second
// derivative of ℓ_i in s_m (Hessian or Gauss-Newton) and J_{m←l} = ∂s_m/∂s_l.
// The sum over samples is a matrix product with inner dimension N, C times
// fewer operations than forming J_iᵀ S_i for C outputs.
type assembler struct {
	s       mlp
	layers  []layerState
	n       int
	hessian bool
	pool    pool
}

// outputCurv gives the per-sample output matrices of the assembly, each
// weighted by its sample's weight w_i: w_i H_z(z_i, y_i) for the Hessian
// and the GGN, and for the Fisher w_i F_z(z_i) = w_i S Sᵀ from the factor of
// an nn.FisherLoss (H_z for any other loss).
type outputCurv struct {
	loss   nn.Loss
	fisher nn.FisherLoss // for the Fisher of a FisherLoss
	z, y   *mat.Dense
	w      []float64
	s      *mat.Dense // the Fisher factor's work space
}

// newOutputCurv returns the output matrices of kind on the tape's batch
// (after Forward and Backward).
func newOutputCurv(kind Kind, loss nn.Loss, t *nn.Tape) *outputCurv {
	o := &outputCurv{loss: loss, z: t.Z(), y: t.Targets(), w: t.Weights()}
	if f, ok := loss.(nn.FisherLoss); ok && kind == Fisher {
		C := t.Net.OutSize()
		o.fisher, o.s = f, mat.NewDense(C, C, nil)
	}
	return o
}

// at stores sample i's output matrix in dst.
func (o *outputCurv) at(dst *mat.SymDense, i int) {
	if o.fisher != nil {
		o.fisher.FisherFactor(o.s, o.z.RawRowView(i))
		dst.SymOuterK(1, o.s)
	} else {
		o.loss.Hessian(dst, o.z.RawRowView(i), o.y.RawRowView(i))
	}
	if o.w != nil {
		dst.ScaleSym(o.w[i], dst)
	}
}

// weighted returns g with row i multiplied by w_i, in (*s)[i] of ws, or g
// itself for uniform weights or outside the Hessian (whose residual and
// cross terms alone read g).
func (o *outputCurv) weighted(ws *workspace, s *[]*mat.Dense, i int, g *mat.Dense, hessian bool) *mat.Dense {
	if o.w == nil || !hessian {
		return g
	}
	r, c := g.Dims()
	d := ws.dense(s, i, r, c)
	for k, w := range o.w {
		floats.ScaleTo(d.RawRowView(k), w, g.RawRowView(k))
	}
	return d
}

// newAssembler reads the tape (after Forward and Backward) and forms the
// per-sample second derivatives in every s_l, weighted by the sample
// weights, from the output down:
//
//	M_s,L = diag(φ') M_z diag(φ') [+ diag(φ″ ⊙ ∂ℓ/∂z)]
//	M_s,l = diag(φ'_l) W_{l+1}ᵀ M_s,l+1 W_{l+1} diag(φ'_l) [+ diag(φ″_l ⊙ ∂ℓ/∂a_l)]
//
// with M_z the output matrix of oc. The bracketed residual terms are
// included for the Hessian only; without them the result is the
// Gauss-Newton matrix (or the Fisher). ws keeps work space between calls.
func newAssembler(s mlp, t *nn.Tape, oc *outputCurv, hessian bool, down int, p pool, ws *workspace) *assembler {
	n := t.BatchSize()
	M := len(s.dense)
	a := &assembler{s: s, layers: make([]layerState, M), n: n, hessian: hessian, pool: p}
	theta := t.Params()
	for m := range s.dense {
		k := s.dense[m]
		L := &a.layers[m]
		L.in, L.out, L.q, L.lo = s.in[m], s.out[m], s.q[m], s.lo[m]
		L.size = L.out * L.q
		layer := t.Net.Layers[k].(nn.Affine)
		L.abar = layer.KronInputs(ws.abar[m], t.Input(k))
		ws.abar[m] = L.abar
		L.delta = oc.weighted(ws, &ws.delta, m, t.OutputGrad(k), hessian)
		L.gradA = L.delta
		L.dphi = ws.dense(&ws.dphi, m, n, L.out)
		L.d2phi = ws.dense(&ws.d2phi, m, n, L.out)
		if s.act[m] >= 0 {
			L.gradA = oc.weighted(ws, &ws.gradA, m, t.OutputGrad(s.act[m]), hessian)
			sv, av := t.Output(k), t.Output(s.act[m])
			for i := 0; i < n; i++ {
				s.fn[m].Deriv(L.dphi.RawRowView(i), sv.RawRowView(i), av.RawRowView(i))
				s.fn[m].Deriv2(L.d2phi.RawRowView(i), sv.RawRowView(i), av.RawRowView(i))
			}
		} else {
			for i := 0; i < n; i++ {
				fill(L.dphi.RawRowView(i), 1)
				clear(L.d2phi.RawRowView(i))
			}
		}
		L.w, _ = layer.Weights(t.Net.LayerParams(theta, k))
	}

	// Second derivatives in s, from the top layer down to layer `down`.
	C := t.Net.OutSize()
	hz := mat.NewSymDense(C, nil)
	top := &a.layers[M-1]
	top.hs = ws.floats(&ws.hs, M-1, C*n*C)
	for i := 0; i < n; i++ {
		oc.at(hz, i)
		dp := top.dphi.RawRowView(i)
		for p := 0; p < C; p++ {
			h := top.hrow(p, i, n)
			for q := 0; q < C; q++ {
				h[q] = dp[p] * hz.At(p, q) * dp[q]
			}
		}
	}
	if hessian {
		a.addResidual(top)
	}
	for m := M - 1; m > down; m-- {
		up, L := &a.layers[m], &a.layers[m-1]
		k, o := up.out, up.in // W_m is k×o
		// Y = W_mᵀ [M_1 … M_N] (o × N·k), then, its rows read as the N·o
		// rows (p, i) of the Y_i, M_i = Y_i W_m: two products over all
		// samples.
		y := ws.floats(&ws.tmp, 0, o*n*k)
		p.gemm(blas.Trans, blas.NoTrans, 1, up.w, gen(k, n*k, up.hs), 0, gen(o, n*k, y))
		L.hs = ws.floats(&ws.hs, m-1, o*n*o)
		p.gemm(blas.NoTrans, blas.NoTrans, 1, gen(o*n, k, y), up.w, 0, gen(o*n, o, L.hs))
		p.run(o, func(_, r int) {
			for i := 0; i < n; i++ {
				dp := L.dphi.RawRowView(i)
				floats.Mul(L.hrow(r, i, n), dp)
				floats.Scale(dp[r], L.hrow(r, i, n))
			}
		})
		if hessian {
			a.addResidual(L)
		}
	}
	return a
}

// addResidual adds diag(φ″ ⊙ ∂ℓ/∂a), the Hessian's second-order term of
// the activation, to every sample's M_s of layer L.
func (a *assembler) addResidual(L *layerState) {
	for i := 0; i < a.n; i++ {
		d2, g := L.d2phi.RawRowView(i), L.gradA.RawRowView(i)
		for p := 0; p < L.out; p++ {
			L.hrow(p, i, a.n)[p] += d2[p] * g[p]
		}
	}
}

func gen(r, c int, data []float64) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: data}
}

// target is where the assembly writes: the upper triangle of a symmetric
// matrix (data with stride), each computed sum scaled by alpha and added
// to beta times what is there.
type target struct {
	data        []float64
	stride      int
	alpha, beta float64
	// check asks each task to test the entries it wrote, clearing finite
	// at the first NaN or Inf; the last pass over the samples sets it.
	check  bool
	finite *atomic.Bool
	// tally counts the products written, one a call to mulInto.
	tally *tally
}

// sub returns the r×c submatrix of t at (i, j).
func (t *target) sub(i, j, r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: t.stride, Data: t.data[i*t.stride+j:]}
}

// mulInto computes C ← α op(A) op(B) + β C into the r×c submatrix of t at
// (i, j), in products of at most maxWork multiply-adds, and checks the
// result if asked.
func (t *target) mulInto(tA, tB blas.Transpose, a, b blas64.General, i, j int) {
	r, c, k := a.Rows, b.Cols, b.Rows
	if tA != blas.NoTrans {
		r = a.Cols
	}
	if tB != blas.NoTrans {
		c, k = b.Rows, b.Cols
	}
	step := rowsPerProduct(c, k)
	for r0 := 0; r0 < r; r0 += step {
		r1 := min(r0+step, r)
		as := blas64.General{Rows: r1 - r0, Cols: a.Cols, Stride: a.Stride, Data: a.Data[r0*a.Stride:]}
		if tA != blas.NoTrans {
			as = blas64.General{Rows: a.Rows, Cols: r1 - r0, Stride: a.Stride, Data: a.Data[r0:]}
		}
		dst := t.sub(i+r0, j, r1-r0, c)
		gemm.Gemm(tA, tB, t.alpha, as, b, t.beta, dst)
		if t.check {
			for x := 0; x < dst.Rows; x++ {
				if !vec.AllFinite(dst.Data[x*dst.Stride : x*dst.Stride+c]) {
					t.finite.Store(false)
					break
				}
			}
		}
	}
	t.tally.add(1)
}

// assemble writes the dense matrix of layers [first, last] into dst, layer
// m's parameters starting at row and column off[m], upper triangle only.
// Every layer pair (l ≤ m) is one set of tasks, one per neuron o₂ of layer
// l and slice of layer m's columns: row (o₂, j₂), column (o, j) of block
// (l, m) is
//
//	Σ_i ā_l,i[j₂] K_i[(o, j)],  K_i[(o, j)] = D_i[o, o₂] ā_m,i[j] + [Hessian] δ_m,i[o] Ja_i[j, o₂]
//
// with Ja = diag(φ'_{m−1}) J_{m−1←l} the cross term's Jacobian: one matrix
// product ā_lᵀK with inner dimension N, written where the entries belong.
// For l = m only the columns (o, j) with o ≥ o₂ are formed. The tasks
// write disjoint parts of dst and do not depend on the worker count.
func (a *assembler) assemble(dst *target, first, last int, off []int, ws *workspace) {
	n := a.n
	for m := first; m <= last; m++ {
		Lm := &a.layers[m]
		om := Lm.out
		// dt holds D_i(m, l)ᵀ (neuron o₂ of layer l, sample i, neuron o
		// of layer m), D(m, l) = M_s,m J_{m←l}; jt holds J_{m−1←l}ᵀ likewise
		// for the Hessian's cross term.
		var dt, jt []float64
		for l := m; l >= first; l-- {
			Ll := &a.layers[l]
			ol := Ll.out
			switch {
			case l == m:
				dt = Lm.hs
			default:
				// D(m, l)ᵀ = diag(φ'_l) W_{l+1}ᵀ D(m, l+1)ᵀ.
				up := &a.layers[l+1]
				next := ws.floats(&ws.dt, (m-l)%2, ol*n*om)
				a.pool.gemm(blas.Trans, blas.NoTrans, 1, up.w, gen(up.out, n*om, dt), 0, gen(ol, n*om, next))
				dt = next
				a.scaleRows(dt, Ll, om)
				if a.hessian && l < m-1 {
					// J_{m−1←l}ᵀ = diag(φ'_l) W_{l+1}ᵀ J_{m−1←l+1}ᵀ, from
					// J_{m−1←m−2}ᵀ = diag(φ'_{m−2}) W_{m−1}ᵀ.
					in := Lm.in
					nextJ := ws.floats(&ws.jt, (m-l)%2, ol*n*in)
					if l == m-2 {
						a.pool.run(ol, func(_, o2 int) {
							for i := 0; i < n; i++ {
								row := nextJ[(o2*n+i)*in:][:in]
								for j := range row {
									row[j] = up.w.Data[j*up.w.Stride+o2]
								}
							}
						})
					} else {
						a.pool.gemm(blas.Trans, blas.NoTrans, 1, up.w, gen(up.out, n*in, jt), 0, gen(ol, n*in, nextJ))
					}
					jt = nextJ
					a.scaleRows(jt, Ll, in)
				}
			}
			a.pair(dst, l, m, dt, jt, off, ws)
		}
	}
}

// scaleRows multiplies row (o₂, i) of x, neuron-major with c columns, by
// φ'_l,i[o₂].
func (a *assembler) scaleRows(x []float64, L *layerState, c int) {
	n := a.n
	a.pool.run(L.out, func(_, o2 int) {
		for i := 0; i < n; i++ {
			floats.Scale(L.dphi.At(i, o2), x[(o2*n+i)*c:][:c])
		}
	})
}

// pair writes block (l, m) of the matrix from dt = D(m, l)ᵀ and, for the
// Hessian with l < m − 1, jt = J_{m−1←l}ᵀ.
func (a *assembler) pair(dst *target, l, m int, dt, jt []float64, off []int, ws *workspace) {
	n := a.n
	Ll, Lm := &a.layers[l], &a.layers[m]
	om, qm, in := Lm.out, Lm.q, Lm.in
	cross := a.hessian && l < m
	var prev *layerState // the activation between the layers, for the cross term
	if cross {
		prev = &a.layers[m-1]
	}
	tasks := a.s.pairTasks(l, m)
	ws.grow(a.pool.workers, n*taskCols, in)
	a.pool.run(len(tasks), func(w, t int) {
		o2, c0 := tasks[t].o2, tasks[t].c0
		c1 := min(c0+taskCols, Lm.size)
		cols := c1 - c0
		K := ws.k[w][:n*cols]
		v := ws.v[w][:in]
		for i := 0; i < n; i++ {
			row := K[i*cols : i*cols+cols]
			d := dt[(o2*n+i)*om:][:om]
			abar := Lm.abar.RawRowView(i)
			var delta []float64
			if cross {
				delta = Lm.delta.RawRowView(i)
				if jt != nil {
					floats.MulTo(v, jt[(o2*n+i)*in:][:in], prev.dphi.RawRowView(i))
				}
			}
			for c := c0; c < c1; {
				o := c / qm
				j0 := c - o*qm
				j1 := min(qm, j0+c1-c)
				seg := row[c-c0 : c-c0+j1-j0]
				floats.ScaleTo(seg, d[o], abar[j0:j1])
				switch {
				case !cross:
				case jt != nil:
					// Non-adjacent layers: δ_m[o] Ja[j, o₂] over the
					// weights' columns j < in (the bias column has none).
					if e := min(j1, in); e > j0 {
						floats.AddScaled(seg[:e-j0], delta[o], v[j0:e])
					}
				default:
					// Adjacent layers: J_{m−1←m−1} = I, so Ja[j, o₂] is
					// φ'_{m−1}[o₂] at j = o₂ and zero elsewhere.
					if o2 >= j0 && o2 < j1 && o2 < in {
						seg[o2-j0] += delta[o] * prev.dphi.At(i, o2)
					}
				}
				c = o*qm + j1
			}
		}
		dst.mulInto(blas.Trans, blas.NoTrans, Ll.abar.RawMatrix(), gen(n, cols, K), off[l]+o2*Ll.q, off[m]+c0)
	})
}

// pairTask is a task of block (l, m) of the assembly: neuron o2 of layer l,
// columns [c0, c0+taskCols) of layer m.
type pairTask struct{ o2, c0 int }

// pairTasks lists the tasks of block (l, m), l ≤ m: for l = m only the
// columns from neuron o₂'s own on.
func (s mlp) pairTasks(l, m int) []pairTask {
	var tasks []pairTask
	size := s.out[m] * s.q[m]
	for o2 := 0; o2 < s.out[l]; o2++ {
		start := 0
		if l == m {
			start = o2 * s.q[m]
		}
		for c0 := start; c0 < size; c0 += taskCols {
			tasks = append(tasks, pairTask{o2, c0})
		}
	}
	return tasks
}

// tasks returns the number of tasks of the blocks of layers [first, last]
// that write the result, for one chunk of samples.
func (s mlp) tasks(first, last int) int {
	n := 0
	for m := first; m <= last; m++ {
		for l := first; l <= m; l++ {
			n += len(s.pairTasks(l, m))
		}
	}
	return n
}

// taskCols is the number of columns of one task's product: its K (N×240,
// 480 KiB at N = 256) and B's packed copy stay in a core's L2 cache beside
// ā_l.
const taskCols = 240

// maxWork bounds the multiply-adds of one product, below the size from
// which internal/gemm splits a product over goroutines (2²⁴), so that
// each product runs on the worker that took the task.
const maxWork = 1 << 23

// rowsPerProduct returns how many rows of a product with c columns and
// inner dimension k keep it within maxWork: a multiple of 12, the tiles'
// height.
func rowsPerProduct(c, k int) int {
	return max(12, maxWork/max(1, c*k)/12*12)
}

func fill(dst []float64, v float64) {
	for i := range dst {
		dst[i] = v
	}
}
