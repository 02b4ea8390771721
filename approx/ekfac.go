package approx

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
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
func (k *EigenKron) Trace() float64 {
	var t float64
	for _, s := range k.s {
		t += s
	}
	return t
}

// LogDet returns Σ log s.
func (k *EigenKron) LogDet() (float64, error) { return k.LogDetDamped(0) }

// LogDetDamped returns Σ log(s+λ).
func (k *EigenKron) LogDetDamped(lambda float64) (float64, error) {
	if err := checkLambda(lambda); err != nil {
		return math.NaN(), err
	}
	var ld float64
	for i, s := range k.s {
		if !(s+lambda > 0) {
			return math.NaN(), notPD("EKFAC scale %d: s+λ = %v", i, s+lambda)
		}
		ld += math.Log(s + lambda)
	}
	return ld, nil
}

// Floats returns p² + q² + pq: the basis and the scaling.
func (k *EigenKron) Floats() int { return k.p*k.p + k.q*k.q + k.p*k.q }

// EKFAC is eigenvalue-corrected K-FAC (George, Laurent, Bouthillier,
// Ballas & Vincent 2018): K-FAC's per-layer eigenbasis Q_G⊗Q_A kept, its
// eigenvalues λ_G,a·λ_A,b replaced by scales s re-estimated in that basis,
// block l = (Q_G⊗Q_A) diag(s_l) (Q_G⊗Q_A)ᵀ.
type EKFAC struct {
	*BlockDiagonal
	layers []*EigenKron
}

var _ Approximation = (*EKFAC)(nil)

// ekfacFloats returns the floats of an EKFAC on basis.
func ekfacFloats(basis *KFAC) int {
	f := 0
	for _, sh := range basis.Shapes() {
		f += sh.G*sh.G + sh.A*sh.A + sh.G*sh.A
	}
	return f
}

// NewEKFAC returns the EKFAC with the eigenbasis of basis and scales s (of
// length basis.Dim(), layer after layer, each layer's row-major p×q; s is
// copied). It returns an error when s is not finite and a
// *curvature.BudgetError when Σ p²+q²+pq exceeds budget (≤ 0: no limit).
func NewEKFAC(basis *KFAC, s []float64, budget int) (*EKFAC, error) {
	if len(s) != basis.Dim() {
		return nil, fmt.Errorf("approx: %d EKFAC scales for %d parameters", len(s), basis.Dim())
	}
	if err := curvature.CheckFloats("EKFAC", ekfacFloats(basis), budget); err != nil {
		return nil, err
	}
	if err := checkFiniteVec("EKFAC scales", s); err != nil {
		return nil, err
	}
	layers := make([]*EigenKron, basis.NumLayers())
	blocks := make([]Approximation, len(layers))
	sizes := make([]int, len(layers))
	off := 0
	for l := range layers {
		e, err := basis.Layer(l).basis()
		if err != nil {
			return nil, err
		}
		n := basis.Layer(l).Dim()
		layers[l] = newEigenKron(e, append([]float64(nil), s[off:off+n]...))
		blocks[l], sizes[l] = layers[l], n
		off += n
	}
	bd, err := NewBlockDiagonal(blocks, Ranges(sizes...))
	if err != nil {
		return nil, err
	}
	return &EKFAC{BlockDiagonal: bd, layers: layers}, nil
}

// Layer returns layer l's block.
func (k *EKFAC) Layer(l int) *EigenKron { return k.layers[l] }

// NumLayers returns the number of layers.
func (k *EKFAC) NumLayers() int { return len(k.layers) }

// EKFACFromGrads returns the EKFAC whose scales are the mean squared
// coordinates of the per-sample gradients (the rows of grads, N×n) in the
// eigenbasis: s = (1/N) Σ_i ((Q_G⊗Q_A)ᵀ g_i)², George et al. (2018).
func EKFACFromGrads(basis *KFAC, grads mat.Matrix, budget int) (*EKFAC, error) {
	if err := curvature.CheckFloats("EKFAC", ekfacFloats(basis), budget); err != nil {
		return nil, err
	}
	acc, err := NewEKFACScaling(basis)
	if err != nil {
		return nil, err
	}
	r, c := grads.Dims()
	if c != basis.Dim() {
		return nil, fmt.Errorf("approx: gradients have %d columns for %d parameters", c, basis.Dim())
	}
	g := make([]float64, c)
	for i := 0; i < r; i++ {
		mat.Row(g, i, grads)
		if err := acc.AddGrad(g); err != nil {
			return nil, fmt.Errorf("approx: gradient %d: %w", i, err)
		}
	}
	s, err := acc.Scaling()
	if err != nil {
		return nil, err
	}
	return NewEKFAC(basis, s, budget)
}

// EKFACFromMatrix returns the EKFAC whose scales are s_k = q_kᵀ M q_k for
// the columns q_k of each layer's Q_G⊗Q_A and M's diagonal block of that
// layer: the diagonal in that basis nearest M in Frobenius norm. It
// streams M's rows, costing O(P_l²(p_l+q_l)) per layer and O(P_l) memory.
func EKFACFromMatrix(basis *KFAC, m mat.Symmetric, budget int) (*EKFAC, error) {
	if m.SymmetricDim() != basis.Dim() {
		return nil, fmt.Errorf("approx: matrix of order %d for %d parameters", m.SymmetricDim(), basis.Dim())
	}
	if err := curvature.CheckFloats("EKFAC", ekfacFloats(basis), budget); err != nil {
		return nil, err
	}
	s := make([]float64, basis.Dim())
	off := 0
	for l := 0; l < basis.NumLayers(); l++ {
		kr := basis.Layer(l)
		e, err := kr.basis()
		if err != nil {
			return nil, err
		}
		p, q := kr.p, kr.q
		n := p * q
		row := make([]float64, n)
		t := mat.NewDense(p, q, nil)
		w := mat.NewDense(p, q, nil)
		sl := s[off : off+n]
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
		off += n
	}
	return NewEKFAC(basis, s, budget)
}

// EKFACScaling accumulates the sums Σ_i ((Q_G⊗Q_A)ᵀ g_i)² per layer, and
// the number of samples, so that partial sums over parts of a batch merge
// exactly. Not safe for concurrent use; give each goroutine its own and
// Merge them.
type EKFACScaling struct {
	basis  *KFAC
	eig    []*kronEig
	sum    [][]float64 // per layer, row-major p×q
	count  []int
	w1, w2 []*mat.Dense
	y, z   []float64
}

// NewEKFACScaling returns an empty accumulator for basis's eigenbasis.
func NewEKFACScaling(basis *KFAC) (*EKFACScaling, error) {
	L := basis.NumLayers()
	acc := &EKFACScaling{basis: basis, eig: make([]*kronEig, L), sum: make([][]float64, L),
		count: make([]int, L), w1: make([]*mat.Dense, L), w2: make([]*mat.Dense, L)}
	maxp, maxq := 0, 0
	for l := 0; l < L; l++ {
		kr := basis.Layer(l)
		e, err := kr.basis()
		if err != nil {
			return nil, err
		}
		acc.eig[l] = e
		acc.sum[l] = make([]float64, kr.Dim())
		acc.w1[l] = mat.NewDense(kr.p, kr.q, nil)
		acc.w2[l] = mat.NewDense(kr.p, kr.q, nil)
		maxp, maxq = max(maxp, kr.p), max(maxq, kr.q)
	}
	acc.y, acc.z = make([]float64, maxp), make([]float64, maxq)
	return acc, nil
}

// AddGrad adds one per-sample gradient g (length basis.Dim()) to every
// layer: S_l += (Q_Gᵀ X_l Q_A)², X_l the layer's p×q slice of g.
func (acc *EKFACScaling) AddGrad(g []float64) error {
	if len(g) != acc.basis.Dim() {
		panic(fmt.Sprintf("approx: gradient of length %d for %d parameters", len(g), acc.basis.Dim()))
	}
	if err := checkFiniteVec("gradient", g); err != nil {
		return err
	}
	off := 0
	for l, e := range acc.eig {
		kr := acc.basis.Layer(l)
		n := kr.Dim()
		e.project(acc.w1[l], acc.w2[l], mat.NewDense(kr.p, kr.q, g[off:off+n]))
		sum := acc.sum[l]
		for a := 0; a < kr.p; a++ {
			row := acc.w1[l].RawRowView(a)
			for b, x := range row {
				sum[a*kr.q+b] += x * x
			}
		}
		acc.count[l]++
		off += n
	}
	return nil
}

// AddLayerOuter adds one sample's gradient of layer l given as the outer
// product δ āᵀ (δ the back-propagated pre-activation gradient, length p;
// ā the augmented input, length q). The projection is rank one,
// Q_Gᵀ δ āᵀ Q_A = (Q_Gᵀδ)(Q_Aᵀā)ᵀ, so it costs O(p² + q²), not
// O(pq(p+q)).
func (acc *EKFACScaling) AddLayerOuter(l int, delta, abar []float64) error {
	kr := acc.basis.Layer(l)
	if len(delta) != kr.p || len(abar) != kr.q {
		panic(fmt.Sprintf("approx: layer %d outer product of %d×%d for a %d×%d block", l, len(delta), len(abar), kr.p, kr.q))
	}
	if err := checkFiniteVec("delta", delta); err != nil {
		return err
	}
	if err := checkFiniteVec("activation", abar); err != nil {
		return err
	}
	e := acc.eig[l]
	y, z := acc.y[:kr.p], acc.z[:kr.q]
	mat.NewVecDense(kr.p, y).MulVec(e.qg.T(), mat.NewVecDense(kr.p, delta))
	mat.NewVecDense(kr.q, z).MulVec(e.qa.T(), mat.NewVecDense(kr.q, abar))
	sum := acc.sum[l]
	for a, ya := range y {
		for b, zb := range z {
			x := ya * zb
			sum[a*kr.q+b] += x * x
		}
	}
	acc.count[l]++
	return nil
}

// Merge adds other's sums and counts to acc. Both must share the basis.
func (acc *EKFACScaling) Merge(other *EKFACScaling) {
	if other.basis != acc.basis {
		panic("approx: merging EKFAC scalings of different bases")
	}
	for l := range acc.sum {
		for i, x := range other.sum[l] {
			acc.sum[l][i] += x
		}
		acc.count[l] += other.count[l]
	}
}

// Count returns the number of samples added to layer l.
func (acc *EKFACScaling) Count(l int) int { return acc.count[l] }

// Scaling returns the mean s of the squared projections, layer after
// layer. It returns an error when a layer has no samples.
func (acc *EKFACScaling) Scaling() ([]float64, error) {
	s := make([]float64, 0, acc.basis.Dim())
	for l, sum := range acc.sum {
		if acc.count[l] == 0 {
			return nil, fmt.Errorf("approx: EKFAC layer %d has no samples", l)
		}
		inv := 1 / float64(acc.count[l])
		for _, x := range sum {
			s = append(s, x*inv)
		}
	}
	return s, nil
}
