package curvature

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
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
	abar     *mat.Dense // N×q: the input, with a column of ones when there is a bias
	dphi     *mat.Dense // N×out: φ'(s)
	d2phi    *mat.Dense // N×out: φ″(s)
	delta    *mat.Dense // N×out: ∂ℓ_i/∂s
	gradA    *mat.Dense // N×out: ∂ℓ_i/∂a, a = φ(s)
	w        blas64.General
	hs       [][]float64 // per sample, out×out: ∂²ℓ_i/∂s² (or its Gauss-Newton part)
	in, out  int
	q        int // columns of ā
	lo, size int
}

// assembler builds dense curvature matrices of an MLP from per-sample
// Kronecker structure: the block of layers (m, l) is
//
//	Σ_i (D_i ⊗ ā_m,i ā_l,iᵀ) [+ the Hessian's cross term]
//
// with D_i = M_s,m J_{m←l} out_m×out_l, M_s,m the per-sample second
// derivative of ℓ_i in s_m (Hessian or Gauss-Newton) and J_{m←l} = ∂s_m/∂s_l.
// The sum over samples is one matrix product with inner dimension N per
// block, C times fewer operations than forming J_iᵀ S_i for C outputs.
type assembler struct {
	s      mlp
	layers []layerState
	n      int
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

// weighted returns g with row i multiplied by w_i, a copy, or g itself
// for uniform weights or outside the Hessian (whose residual terms alone
// read g).
func (o *outputCurv) weighted(g *mat.Dense, hessian bool) *mat.Dense {
	if o.w == nil || !hessian {
		return g
	}
	c := mat.DenseCopyOf(g)
	for i, w := range o.w {
		floats.Scale(w, c.RawRowView(i))
	}
	return c
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
// Gauss-Newton matrix (or the Fisher).
func newAssembler(s mlp, t *nn.Tape, oc *outputCurv, hessian bool, down int) *assembler {
	n := t.BatchSize()
	M := len(s.dense)
	a := &assembler{s: s, layers: make([]layerState, M), n: n}
	theta := t.Params()
	for m := range s.dense {
		k := s.dense[m]
		L := &a.layers[m]
		L.in, L.out, L.q, L.lo = s.in[m], s.out[m], s.q[m], s.lo[m]
		L.size = L.out * L.q
		layer := t.Net.Layers[k].(nn.Affine)
		L.abar = layer.KronInputs(nil, t.Input(k))
		L.delta = oc.weighted(t.OutputGrad(k), hessian)
		L.gradA = L.delta
		L.dphi = mat.NewDense(n, L.out, nil)
		L.d2phi = mat.NewDense(n, L.out, nil)
		if s.act[m] >= 0 {
			L.gradA = oc.weighted(t.OutputGrad(s.act[m]), hessian)
			sv, av := t.Output(k), t.Output(s.act[m])
			for i := 0; i < n; i++ {
				s.fn[m].Deriv(L.dphi.RawRowView(i), sv.RawRowView(i), av.RawRowView(i))
				s.fn[m].Deriv2(L.d2phi.RawRowView(i), sv.RawRowView(i), av.RawRowView(i))
			}
		} else {
			for i := 0; i < n; i++ {
				fill(L.dphi.RawRowView(i), 1)
			}
		}
		L.w, _ = layer.Weights(t.Net.LayerParams(theta, k))
	}

	// Second derivatives in s, from the top layer down to layer `down`.
	C := t.Net.OutSize()
	hz := mat.NewSymDense(C, nil)
	top := &a.layers[M-1]
	top.hs = make([][]float64, n)
	for i := 0; i < n; i++ {
		oc.at(hz, i)
		h := make([]float64, C*C)
		dp := top.dphi.RawRowView(i)
		for p := 0; p < C; p++ {
			for q := 0; q < C; q++ {
				h[p*C+q] = dp[p] * hz.At(p, q) * dp[q]
			}
		}
		if hessian {
			addResidual(h, C, top.d2phi.RawRowView(i), top.gradA.RawRowView(i))
		}
		top.hs[i] = h
	}
	tmp := make([]float64, 0)
	for m := M - 1; m > down; m-- {
		up, L := &a.layers[m], &a.layers[m-1]
		L.hs = make([][]float64, n)
		k, o := up.out, up.in // W_m is k×o
		if cap(tmp) < k*o {
			tmp = make([]float64, k*o)
		}
		tmp = tmp[:k*o]
		for i := 0; i < n; i++ {
			// Wᵀ M W, then scale rows and columns by φ'.
			gemm.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(k, k, up.hs[i]), up.w, 0, gen(k, o, tmp))
			h := make([]float64, o*o)
			gemm.Gemm(blas.Trans, blas.NoTrans, 1, up.w, gen(k, o, tmp), 0, gen(o, o, h))
			dp := L.dphi.RawRowView(i)
			for p := 0; p < o; p++ {
				for q := 0; q < o; q++ {
					h[p*o+q] *= dp[p] * dp[q]
				}
			}
			if hessian {
				addResidual(h, o, L.d2phi.RawRowView(i), L.gradA.RawRowView(i))
			}
			L.hs[i] = h
		}
	}
	return a
}

func addResidual(h []float64, c int, d2phi, gradA []float64) {
	for p := 0; p < c; p++ {
		h[p*c+p] += d2phi[p] * gradA[p]
	}
}

func gen(r, c int, data []float64) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: data}
}

// block returns the (m, l) block, m ≥ l, summed over the samples (not
// divided by N), as a dense size_m×size_l matrix.
// With cross, the Hessian's mixed term δ_m ā_lᵀ ⊗ ∂a_{m−1}/∂s_l is added for
// m > l.
func (a *assembler) block(m, l int, cross bool) *mat.Dense {
	n := a.n
	Lm, Ll := &a.layers[m], &a.layers[l]
	om, ol := Lm.out, Ll.out
	im, il := Lm.q, Ll.q

	if m == l {
		return a.diagonalBlock(m)
	}

	// J_{m←l} per sample, by the chain J_{k←l} = W_k diag(φ'_{k−1}) J_{k−1←l}.
	jac := make([][]float64, n) // out_k × ol
	for i := range jac {
		j := make([]float64, ol*ol)
		for p := 0; p < ol; p++ {
			j[p*ol+p] = 1
		}
		jac[i] = j
	}
	var prev [][]float64 // J_{m−1←l}, kept for the cross term
	for k := l + 1; k <= m; k++ {
		Lk, Lp := &a.layers[k], &a.layers[k-1]
		prev = jac
		next := make([][]float64, n)
		scaled := make([]float64, Lp.out*ol)
		for i := 0; i < n; i++ {
			dp := Lp.dphi.RawRowView(i)
			for p := 0; p < Lp.out; p++ {
				for q := 0; q < ol; q++ {
					scaled[p*ol+q] = dp[p] * jac[i][p*ol+q]
				}
			}
			j := make([]float64, Lk.out*ol)
			gemm.Gemm(blas.NoTrans, blas.NoTrans, 1, Lk.w, gen(Lp.out, ol, scaled), 0, gen(Lk.out, ol, j))
			next[i] = j
		}
		jac = next
	}

	// D (N × om·ol), D_i = M_s,m J_{m←l}, and the Kronecker rows ā_m ⊗ ā_l.
	d := mat.NewDense(n, om*ol, nil)
	kr := mat.NewDense(n, im*il, nil)
	for i := 0; i < n; i++ {
		gemm.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(om, om, Lm.hs[i]), gen(om, ol, jac[i]), 0, gen(om, ol, d.RawRowView(i)))
		outer(kr.RawRowView(i), Lm.abar.RawRowView(i), Ll.abar.RawRowView(i))
	}
	raw := mat.NewDense(om*ol, im*il, nil)
	gemm.Mul(raw, blas.Trans, d, blas.NoTrans, kr)

	blk := mat.NewDense(Lm.size, Ll.size, nil)
	bd := blk.RawMatrix()
	rd := raw.RawMatrix()
	for o := 0; o < om; o++ {
		for o2 := 0; o2 < ol; o2++ {
			src := rd.Data[(o*ol+o2)*rd.Stride:]
			for j := 0; j < im; j++ {
				dst := bd.Data[(o*im+j)*bd.Stride+o2*il:]
				copy(dst[:il], src[j*il:j*il+il])
			}
		}
	}
	if !cross {
		return blk
	}

	// Cross term: entry ((o,j),(o',j')) += Σ_i δ_m[o] ā_l[j'] Ja_i[j,o'],
	// Ja = diag(φ'_{m−1}) J_{m−1←l} (the bias row j = in_m, if any, is zero).
	Lp := &a.layers[m-1]
	x := mat.NewDense(n, om*il, nil)
	y := mat.NewDense(n, Lm.in*ol, nil)
	for i := 0; i < n; i++ {
		outer(x.RawRowView(i), Lm.delta.RawRowView(i), Ll.abar.RawRowView(i))
		yr := y.RawRowView(i)
		dp := Lp.dphi.RawRowView(i)
		for j := 0; j < Lm.in; j++ {
			for q := 0; q < ol; q++ {
				yr[j*ol+q] = dp[j] * prev[i][j*ol+q]
			}
		}
	}
	raw2 := mat.NewDense(om*il, Lm.in*ol, nil)
	gemm.Mul(raw2, blas.Trans, x, blas.NoTrans, y)
	r2 := raw2.RawMatrix()
	for o := 0; o < om; o++ {
		for j2 := 0; j2 < il; j2++ {
			src := r2.Data[(o*il+j2)*r2.Stride:]
			for j := 0; j < Lm.in; j++ {
				dst := bd.Data[(o*im+j)*bd.Stride:]
				for o2 := 0; o2 < ol; o2++ {
					dst[o2*il+j2] += src[j*ol+o2]
				}
			}
		}
	}
	return blk
}

// diagonalBlock returns the (m, m) block, Σ_i M_s,m,i ⊗ ā_iā_iᵀ. Both
// factors are symmetric, so only the neuron pairs o ≤ o' are formed: half
// the work of the general block. Only the upper triangle is filled.
func (a *assembler) diagonalBlock(m int) *mat.Dense {
	n := a.n
	L := &a.layers[m]
	o, s := L.out, L.q
	pairs := o * (o + 1) / 2
	d := mat.NewDense(n, pairs, nil)
	kr := mat.NewDense(n, s*s, nil)
	for i := 0; i < n; i++ {
		row := d.RawRowView(i)
		h := L.hs[i]
		q := 0
		for p := 0; p < o; p++ {
			q += copy(row[q:], h[p*o+p:p*o+o])
		}
		outer(kr.RawRowView(i), L.abar.RawRowView(i), L.abar.RawRowView(i))
	}
	raw := mat.NewDense(pairs, s*s, nil)
	gemm.Mul(raw, blas.Trans, d, blas.NoTrans, kr)
	blk := mat.NewDense(L.size, L.size, nil)
	bd := blk.RawMatrix()
	q := 0
	for p := 0; p < o; p++ {
		for p2 := p; p2 < o; p2++ {
			src := raw.RawRowView(q)
			q++
			for j := 0; j < s; j++ {
				copy(bd.Data[(p*s+j)*bd.Stride+p2*s:][:s], src[j*s:j*s+s])
			}
		}
	}
	return blk
}

// outer stores the row-major outer product a bᵀ in dst.
func outer(dst, a, b []float64) {
	nb := len(b)
	for p, av := range a {
		row := dst[p*nb : p*nb+nb]
		for q, bv := range b {
			row[q] = av * bv
		}
	}
}

// writeBlock stores blk as the (m, l) block of dst, m ≥ l, keeping the upper
// triangle for a diagonal block.
func writeBlock(dst *mat.SymDense, rowLo, colLo int, blk *mat.Dense) {
	raw := dst.RawSymmetric()
	br := blk.RawMatrix()
	for r := 0; r < br.Rows; r++ {
		src := br.Data[r*br.Stride : r*br.Stride+br.Cols]
		R := rowLo + r
		for c, v := range src {
			C := colLo + c
			if C >= R {
				raw.Data[R*raw.Stride+C] = v
			} else if rowLo != colLo {
				raw.Data[C*raw.Stride+R] = v
			}
		}
	}
}

func fill(dst []float64, v float64) {
	for i := range dst {
		dst[i] = v
	}
}
