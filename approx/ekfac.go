package approx

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// EigenKron is one EKFAC block: the eigenbasis Q = Q_G⊗Q_A of a Kronecker
// block with its own diagonal scaling, Q diag(s) Qᵀ. s is stored as the
// row-major p×q matrix S, S[a,b] the scale of q_G,a⊗q_A,b, so products
// are Q_G (S ⊙ (Q_Gᵀ X Q_A)) Q_Aᵀ.
type EigenKron struct {
	e    *kronEig
	p, q int
	s    []float64

	mu     sync.Mutex
	w1, w2 *mat.Dense
}

var _ Approximation = (*EigenKron)(nil)

func newEigenKron(e *kronEig, s []float64) *EigenKron {
	p, q := len(e.lg), len(e.la)
	return &EigenKron{e: e, p: p, q: q, s: s, w1: mat.NewDense(p, q, nil), w2: mat.NewDense(p, q, nil)}
}

// Dim returns p·q.
func (k *EigenKron) Dim() int { return k.p * k.q }

// Scaling returns s, row-major p×q. It must not be modified.
func (k *EigenKron) Scaling() []float64 { return k.s }

func (k *EigenKron) view(v []float64) *mat.Dense { return mat.NewDense(k.p, k.q, v) }

// scaled stores Q (f(s) ⊙ Qᵀv) in dst.
func (k *EigenKron) scaled(dst, v []float64, f func(s float64) float64) {
	k.e.project(k.w1, k.w2, k.view(v))
	y := k.w1.RawMatrix()
	for i := 0; i < k.p; i++ {
		row := y.Data[i*y.Stride : i*y.Stride+k.q]
		for j := range row {
			row[j] *= f(k.s[i*k.q+j])
		}
	}
	k.e.unproject(k.view(dst), k.w2, k.w1)
}

// MulVecTo stores Q diag(s) Qᵀ v in dst.
func (k *EigenKron) MulVecTo(dst, v []float64) {
	checkVecs(dst, v, k.Dim())
	k.mu.Lock()
	defer k.mu.Unlock()
	k.scaled(dst, v, func(s float64) float64 { return s })
}

// SolveDampedTo stores Q diag(1/(s+λ)) Qᵀ v in dst.
func (k *EigenKron) SolveDampedTo(dst, v []float64, lambda float64) error {
	checkVecs(dst, v, k.Dim())
	if err := checkLambda(lambda); err != nil {
		return err
	}
	for i, s := range k.s {
		if !(s+lambda > 0) {
			return notPD("EKFAC scale %d: s+λ = %v", i, s+lambda)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.scaled(dst, v, func(s float64) float64 { return 1 / (s + lambda) })
	return nil
}

// Dense returns Q diag(s) Qᵀ.
func (k *EigenKron) Dense() *mat.SymDense {
	var q mat.Dense
	q.Kronecker(k.e.qg, k.e.qa)
	n := k.Dim()
	qs := mat.DenseCopyOf(&q)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			qs.Set(i, j, qs.At(i, j)*k.s[j])
		}
	}
	var full mat.Dense
	full.Mul(qs, q.T())
	m := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			m.SetSym(i, j, 0.5*(full.At(i, j)+full.At(j, i)))
		}
	}
	return m
}

// Trace returns Σ s.
func (k *EigenKron) Trace() float64 { return floats.Sum(k.s) }

// LogDet returns Σ log(s+λ).
func (k *EigenKron) LogDet(lambda float64) (float64, error) {
	return logDetShiftedValues(k.s, lambda, "EKFAC scale")
}

// Floats returns p² + q² + pq: the basis and the scaling.
func (k *EigenKron) Floats() int { return k.p*k.p + k.q*k.q + k.p*k.q }

// EKFAC is eigenvalue-corrected K-FAC (George et al. 2018): every Kronecker
// block of a K-FAC keeps its eigenbasis Q_G⊗Q_A with its eigenvalues replaced
// by re-estimated scales (an EigenKron); other layers keep their K-FAC blocks.
type EKFAC struct {
	*BlockDiagonal
	basis *KFAC
}

var _ Approximation = (*EKFAC)(nil)

// newEKFAC returns the EKFAC with basis's eigenbases and, for its Kronecker
// blocks, the row-major p×q scales in scales[b] (used, not copied); the
// other blocks are other[b], or basis's when other[b] is nil.
func newEKFAC(basis *KFAC, scales [][]float64, other []Approximation) (*EKFAC, error) {
	blocks := make([]Approximation, len(basis.parts))
	for b, p := range basis.parts {
		kr := basis.krons[b]
		switch {
		case kr != nil:
			e, err := kr.basis()
			if err != nil {
				return nil, err
			}
			if len(scales[b]) != kr.Dim() {
				return nil, fmt.Errorf("approx: %d EKFAC scales for a block of %d parameters", len(scales[b]), kr.Dim())
			}
			if err := checkFiniteVec("EKFAC scales", scales[b]); err != nil {
				return nil, err
			}
			blocks[b] = newEigenKron(e, scales[b])
		case other != nil && other[b] != nil:
			blocks[b] = other[b]
		default:
			blocks[b] = p
		}
	}
	bd, err := NewBlockDiagonal(blocks, basis.index)
	if err != nil {
		return nil, err
	}
	return &EKFAC{BlockDiagonal: bd, basis: basis}, nil
}

// ekfacFloats returns the floats an EKFAC on the blocks holds beside its
// K-FAC: one scale per parameter of each Kronecker block.
func ekfacFloats(blocks []netBlock) int {
	f := 0
	for _, b := range blocks {
		if b.structure == nn.KroneckerBlock {
			f += b.size()
		}
	}
	return f
}

// KFAC returns the K-FAC whose eigenbasis the EKFAC keeps.
func (k *EKFAC) KFAC() *KFAC { return k.basis }

// EKFACOf returns the EKFAC with scales s_k = q_kᵀ M q_k for the columns q_k of
// each Kronecker block's basis and M's block of that layer, the diagonal in
// that basis nearest M in Frobenius norm; other blocks are M's own, dense or
// diagonal as the layer's structure says. It streams M's rows.
func EKFACOf(basis *KFAC, m mat.Symmetric) (*EKFAC, error) {
	if m.SymmetricDim() != basis.Dim() {
		return nil, fmt.Errorf("approx: matrix of order %d for %d parameters", m.SymmetricDim(), basis.Dim())
	}
	if err := curvature.CheckFloats("EKFAC", ekfacFloats(basis.blocks), basis.set.Budget); err != nil {
		return nil, err
	}
	scales := make([][]float64, len(basis.blocks))
	other := make([]Approximation, len(basis.blocks))
	for bi, blk := range basis.blocks {
		off := blk.lo
		kr := basis.krons[bi]
		if kr == nil {
			idx := basis.index[bi]
			var err error
			if blk.structure == nn.DiagonalBlock {
				d := make([]float64, len(idx))
				for i, gi := range idx {
					d[i] = m.At(gi, gi)
				}
				other[bi], err = NewDiagonal(d, curvature.Unlimited)
			} else {
				other[bi], err = BlockDiagonalOf(m, [][]int{idx}, curvature.Unlimited)
				if err == nil {
					other[bi], _ = other[bi].(*BlockDiagonal).Block(0)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("approx: layer %d: %w", blk.layer, err)
			}
			continue
		}
		e, err := kr.basis()
		if err != nil {
			return nil, err
		}
		p, q := kr.p, kr.q
		n := p * q
		row := make([]float64, n)
		t := mat.NewDense(p, q, nil)
		w := mat.NewDense(p, q, nil)
		sl := make([]float64, n)
		for o := 0; o < p; o++ {
			for j := 0; j < q; j++ {
				i := o*q + j
				for c := range row {
					row[c] = m.At(off+i, off+c)
				}
				if err := checkFiniteVec("matrix row", row); err != nil {
					return nil, err
				}
				// Row i of M (Q_G⊗Q_A) is vec(Q_Gᵀ R_i Q_A); entry k of
				// the diagonal gathers Q[i,k]·(M Q)[i,k] over the rows.
				e.project(t, w, mat.NewDense(p, q, row))
				for a := 0; a < p; a++ {
					ga := e.qg.At(o, a)
					tr := t.RawRowView(a)
					for b := 0; b < q; b++ {
						sl[a*q+b] += ga * e.qa.At(j, b) * tr[b]
					}
				}
			}
		}
		scales[bi] = sl
	}
	return newEKFAC(basis, scales, other)
}
