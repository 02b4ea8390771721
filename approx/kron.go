package approx

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/gemm"
	"github.com/curvkit/curvkit/internal/spd"
	"github.com/curvkit/curvkit/internal/symeig"
)

// Damping selects the matrix a Kronecker block's SolveDampedTo inverts.
type Damping int

const (
	// ExactDamping inverts G⊗A + λI through the factors' eigendecompositions.
	ExactDamping Damping = iota
	// FactoredDamping inverts (G + (√λ/π)I) ⊗ (A + π√λ I) (Martens & Grosse
	// 2015, §6.3).
	FactoredDamping
)

// FactorSolver selects how a Kronecker block inverts its factors.
type FactorSolver int

const (
	// EigenSolver eigendecomposes G and A once; every λ is then a diagonal
	// rescaling. Exact damping needs it.
	EigenSolver FactorSolver = iota
	// CholeskySolver inverts the damped factors of FactoredDamping for the last
	// λ, several times cheaper to refresh than eigendecompositions.
	CholeskySolver
)

// KronSettings configure a Kronecker block. The zero value is exact
// damping through eigendecompositions and the default memory budget.
type KronSettings struct {
	Damping Damping
	Solver  FactorSolver
	// Budget is the most floats the factors may hold (p² + q²): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
}

func (s KronSettings) check() error {
	switch {
	case s.Damping != ExactDamping && s.Damping != FactoredDamping:
		return fmt.Errorf("approx: unknown damping %d", s.Damping)
	case s.Solver != EigenSolver && s.Solver != CholeskySolver:
		return fmt.Errorf("approx: unknown factor solver %d", s.Solver)
	case s.Damping == ExactDamping && s.Solver == CholeskySolver:
		return fmt.Errorf("approx: exact damping needs the eigen solver; use FactoredDamping with CholeskySolver")
	}
	return nil
}

// KronShape gives a Kronecker block's factor orders: G×G (a layer's outputs
// per position) and A×A (its Kronecker inputs, In+1 for a dense layer).
type KronShape struct {
	G, A int
}

// LayerShapes returns the shapes of a multi-layer perceptron's layers with the
// given widths, input first: G = widths[l+1], A = widths[l]+1. It panics unless
// there are two or more widths, all positive.
func LayerShapes(widths ...int) []KronShape {
	if len(widths) < 2 {
		panic("approx: LayerShapes needs at least two widths")
	}
	s := make([]KronShape, len(widths)-1)
	for l := range s {
		if widths[l] <= 0 || widths[l+1] <= 0 {
			panic(fmt.Sprintf("approx: non-positive layer width in %v", widths))
		}
		s[l] = KronShape{G: widths[l+1], A: widths[l] + 1}
	}
	return s
}

// Kron is the Kronecker product G⊗A of a p×p factor G and a q×q factor A on a
// row-major p×q parameter matrix X: (G⊗A) vec(X) = vec(G X Aᵀ), so nothing
// pq×pq is formed.
type Kron struct {
	g, a   *mat.SymDense
	gd, ad *mat.Dense // general views of g and a's storage, for general products
	p, q   int
	set    KronSettings

	mu  sync.Mutex
	eig *kronEig // nil until needed

	lowerStale bool // the lower triangles lag behind statistics written above

	gInv, aInv *mat.Dense // the damped factors' inverses for cholλ
	cholOK     bool
	cholλ      float64
	cholWork   []float64 // a damped factor being inverted

	w1, w2 *mat.Dense // p×q work space
}

// kronEig is the eigendecomposition G = Q_G Λ_G Q_Gᵀ, A = Q_A Λ_A Q_Aᵀ.
type kronEig struct {
	qg, qa *mat.Dense
	lg, la []float64
}

var _ Approximation = (*Kron)(nil)

// NewKron returns G⊗A; g and a are copied. It returns an error for an empty
// or non-finite factor, invalid settings or a failed eigendecomposition, and
// a *curvature.BudgetError when p² + q² floats exceed the budget.
func NewKron(g, a mat.Symmetric, s *KronSettings) (*Kron, error) {
	var set KronSettings
	if s != nil {
		set = *s
	}
	if err := set.check(); err != nil {
		return nil, err
	}
	p, q := g.SymmetricDim(), a.SymmetricDim()
	if err := curvature.CheckFloats("Kronecker factors", p*p+q*q, set.Budget); err != nil {
		return nil, err
	}
	if err := checkFiniteSym("factor G", g); err != nil {
		return nil, err
	}
	if err := checkFiniteSym("factor A", a); err != nil {
		return nil, err
	}
	k := newKron(p, q, set)
	copyFull(k.g, g)
	copyFull(k.a, a)
	if set.Solver == EigenSolver {
		if _, err := k.eigen(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// newKron returns a Kronecker block of zero factors with all its storage.
func newKron(p, q int, set KronSettings) *Kron {
	k := &Kron{p: p, q: q, set: set}
	gd, ad := make([]float64, p*p), make([]float64, q*q)
	k.g, k.gd = mat.NewSymDense(p, gd), mat.NewDense(p, p, gd)
	k.a, k.ad = mat.NewSymDense(q, ad), mat.NewDense(q, q, ad)
	k.w1 = mat.NewDense(p, q, nil)
	k.w2 = mat.NewDense(p, q, nil)
	return k
}

// copyFull copies m into dst's storage, both triangles, so that products
// with dst's general view run on internal/gemm's kernels (there is no
// symmetric-times-general kernel).
func copyFull(dst *mat.SymDense, m mat.Symmetric) {
	n := m.SymmetricDim()
	raw := dst.RawSymmetric()
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := m.At(i, j)
			raw.Data[i*raw.Stride+j], raw.Data[j*raw.Stride+i] = v, v
		}
	}
}

// mirror copies the upper triangles of the factors into their lower ones
// when statistics were written to the upper triangles since, for the
// products with the general views gd and ad; nothing else reads the lower
// triangles, so an optimizer that only solves never pays for it. The
// caller holds k.mu.
func (k *Kron) mirror() {
	if !k.lowerStale {
		return
	}
	k.lowerStale = false
	for _, m := range []*mat.SymDense{k.g, k.a} {
		raw := m.RawSymmetric()
		for i := 0; i < raw.N; i++ {
			for j := i + 1; j < raw.N; j++ {
				raw.Data[j*raw.Stride+i] = raw.Data[i*raw.Stride+j]
			}
		}
	}
}

// refactor recomputes the factorisation SolveDampedTo uses from the
// current factors: the eigendecompositions for the eigen solver, the
// damped factors' inverses at λ for the Cholesky solver.
func (k *Kron) refactor(lambda float64) error {
	if err := checkLambda(lambda); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set.Solver == CholeskySolver {
		k.cholOK = false
		return k.factorCholesky(lambda)
	}
	k.eig = nil
	_, err := k.eigen()
	return err
}

// eigen returns the factors' eigendecompositions, computing them on first
// use; the caller holds k.mu or is the constructor.
func (k *Kron) eigen() (*kronEig, error) {
	if k.eig != nil {
		return k.eig, nil
	}
	var eg, ea symeig.EigenSym
	if !eg.Factorize(k.g, true) || !ea.Factorize(k.a, true) {
		return nil, fmt.Errorf("approx: eigendecomposition of a Kronecker factor failed")
	}
	e := &kronEig{qg: &mat.Dense{}, qa: &mat.Dense{}, lg: eg.Values(nil), la: ea.Values(nil)}
	eg.VectorsTo(e.qg)
	ea.VectorsTo(e.qa)
	k.eig = e
	return e, nil
}

// Dim returns p·q.
func (k *Kron) Dim() int { return k.p * k.q }

// Factors returns G and A. They must not be modified.
func (k *Kron) Factors() (g, a *mat.SymDense) { return k.g, k.a }

// Pi returns π = √((tr A/q)/(tr G/p)), the split of factored Tikhonov
// damping (Martens & Grosse §6.3), or 1 when a trace is not positive.
func (k *Kron) Pi() float64 {
	g, a := k.g, k.a
	num := symTrace(a) / float64(a.SymmetricDim())
	den := symTrace(g) / float64(g.SymmetricDim())
	pi := math.Sqrt(num / den)
	if !(num > 0) || !(den > 0) || math.IsInf(pi, 0) || !(pi > 0) {
		return 1
	}
	return pi
}

// factoredShifts returns the shifts √λ/π of G and π√λ of A.
func (k *Kron) factoredShifts(lambda float64) (sg, sa float64) {
	pi := k.Pi()
	r := math.Sqrt(lambda)
	return r / pi, pi * r
}

// view returns v as a row-major p×q matrix without copying.
func (k *Kron) view(v []float64) *mat.Dense { return mat.NewDense(k.p, k.q, v) }

// MulVecTo stores (G⊗A)·v = vec(G X A) in dst.
func (k *Kron) MulVecTo(dst, v []float64) {
	checkVecs(dst, v, k.Dim())
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mirror()
	gemm.Mul(k.w1, blas.NoTrans, k.gd, blas.NoTrans, k.view(v))
	gemm.Mul(k.view(dst), blas.NoTrans, k.w1, blas.NoTrans, k.ad)
}

// toEigenbasis stores Q_Gᵀ X Q_A in k.w1.
func (k *Kron) toEigenbasis(e *kronEig, v []float64) { e.project(k.w1, k.w2, k.view(v)) }

// fromEigenbasis stores Q_G Y Q_Aᵀ in dst, Y = k.w1.
func (k *Kron) fromEigenbasis(e *kronEig, dst []float64) { e.unproject(k.view(dst), k.w2, k.w1) }

// project stores Q_Gᵀ X Q_A in y (p×q) using w (p×q) as work space.
func (e *kronEig) project(y, w, x *mat.Dense) {
	gemm.Mul(w, blas.NoTrans, x, blas.NoTrans, e.qa)
	gemm.Mul(y, blas.Trans, e.qg, blas.NoTrans, w)
}

// unproject stores Q_G Y Q_Aᵀ in dst (p×q) using w (p×q) as work space.
func (e *kronEig) unproject(dst, w, y *mat.Dense) {
	gemm.Mul(w, blas.NoTrans, y, blas.Trans, e.qa)
	gemm.Mul(dst, blas.NoTrans, e.qg, blas.NoTrans, w)
}

// basis returns the eigendecompositions, computing them if needed.
func (k *Kron) basis() (*kronEig, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.eigen()
}

// SolveDampedTo applies the inverse the settings' damping selects:
// (G⊗A + λI)⁻¹ for ExactDamping, ((G + √λ/π I)⊗(A + π√λ I))⁻¹ for
// FactoredDamping.
func (k *Kron) SolveDampedTo(dst, v []float64, lambda float64) error {
	if k.set.Damping == FactoredDamping {
		return k.solveFactored(dst, v, lambda)
	}
	return k.solveExact(dst, v, lambda)
}

// solveExact stores (G⊗A + λI)⁻¹·v in dst via the eigenvalues. It fails
// unless λ_G,i·λ_A,j + λ > 0 for all i, j.
func (k *Kron) solveExact(dst, v []float64, lambda float64) error {
	checkVecs(dst, v, k.Dim())
	if err := checkLambda(lambda); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e, err := k.eigen()
	if err != nil {
		return err
	}
	for _, lg := range e.lg {
		for _, la := range e.la {
			if !(lg*la+lambda > 0) {
				return notPD("Kronecker eigenvalue %v·%v + λ = %v", lg, la, lg*la+lambda)
			}
		}
	}
	k.toEigenbasis(e, v)
	for i, lg := range e.lg {
		row := k.w1.RawRowView(i)
		for j, la := range e.la {
			row[j] /= lg*la + lambda
		}
	}
	k.fromEigenbasis(e, dst)
	return nil
}

// factorCholesky caches the inverses of the damped factors for λ; the
// caller holds k.mu.
func (k *Kron) factorCholesky(lambda float64) error {
	if k.cholOK && k.cholλ == lambda {
		return nil
	}
	sg, sa := k.factoredShifts(lambda)
	if k.gInv == nil {
		k.gInv, k.aInv = mat.NewDense(k.p, k.p, nil), mat.NewDense(k.q, k.q, nil)
		k.cholWork = make([]float64, max(k.p*k.p, k.q*k.q))
	}
	k.cholλ = lambda
	k.cholOK = spd.ShiftedInverse(k.gInv.RawMatrix(), k.g.RawSymmetric(), sg, k.cholWork) &&
		spd.ShiftedInverse(k.aInv.RawMatrix(), k.a.RawSymmetric(), sa, k.cholWork)
	if !k.cholOK {
		return notPD("a damped Kronecker factor is not positive definite (shifts %v, %v)", sg, sa)
	}
	return nil
}

// solveFactored stores ((G + √λ/π I)⊗(A + π√λ I))⁻¹·v in dst by the
// settings' solver. Each damped factor must be positive definite.
func (k *Kron) solveFactored(dst, v []float64, lambda float64) error {
	checkVecs(dst, v, k.Dim())
	if err := checkLambda(lambda); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set.Solver == CholeskySolver {
		if err := k.factorCholesky(lambda); err != nil {
			return err
		}
		// G_d⁻¹ X A_d⁻¹, on blas64 views so that the solve allocates nothing.
		x := blas64.General{Rows: k.p, Cols: k.q, Stride: k.q, Data: v}
		out := blas64.General{Rows: k.p, Cols: k.q, Stride: k.q, Data: dst}
		gemm.Gemm(blas.NoTrans, blas.NoTrans, 1, k.gInv.RawMatrix(), x, 0, k.w1.RawMatrix())
		gemm.Gemm(blas.NoTrans, blas.NoTrans, 1, k.w1.RawMatrix(), k.aInv.RawMatrix(), 0, out)
		return nil
	}
	e, err := k.eigen()
	if err != nil {
		return err
	}
	sg, sa := k.factoredShifts(lambda)
	for _, lg := range e.lg {
		if !(lg+sg > 0) {
			return notPD("damped factor G has eigenvalue %v", lg+sg)
		}
	}
	for _, la := range e.la {
		if !(la+sa > 0) {
			return notPD("damped factor A has eigenvalue %v", la+sa)
		}
	}
	k.toEigenbasis(e, v)
	for i, lg := range e.lg {
		row := k.w1.RawRowView(i)
		for j, la := range e.la {
			row[j] /= (lg + sg) * (la + sa)
		}
	}
	k.fromEigenbasis(e, dst)
	return nil
}

// Dense returns G⊗A.
func (k *Kron) Dense() *mat.SymDense {
	n := k.Dim()
	m := mat.NewSymDense(n, nil)
	for o := 0; o < k.p; o++ {
		for o2 := o; o2 < k.p; o2++ {
			gv := k.g.At(o, o2)
			for j := 0; j < k.q; j++ {
				j2 := 0
				if o2 == o {
					j2 = j
				}
				for ; j2 < k.q; j2++ {
					m.SetSym(o*k.q+j, o2*k.q+j2, gv*k.a.At(j, j2))
				}
			}
		}
	}
	return m
}

// Trace returns tr G · tr A.
func (k *Kron) Trace() float64 { return symTrace(k.g) * symTrace(k.a) }

// logDetShifted returns log det of m + s·I: from the eigenvalues when known,
// else by Cholesky.
func logDetShifted(m *mat.SymDense, vals []float64, s float64, what string) (float64, error) {
	if vals != nil {
		return logDetShiftedValues(vals, s, what+" eigenvalue")
	}
	var c mat.Cholesky
	if !c.Factorize(shiftedSym(m, s)) {
		return math.NaN(), notPD("Cholesky of %s failed", what)
	}
	return c.LogDet(), nil
}

func (k *Kron) logDetFactored(sg, sa float64) (float64, error) {
	k.mu.Lock()
	var lg, la []float64
	if k.eig != nil {
		lg, la = k.eig.lg, k.eig.la
	}
	k.mu.Unlock()
	ldg, err := logDetShifted(k.g, lg, sg, "factor G")
	if err != nil {
		return ldg, err
	}
	lda, err := logDetShifted(k.a, la, sa, "factor A")
	if err != nil {
		return lda, err
	}
	return float64(k.q)*ldg + float64(k.p)*lda, nil
}

// LogDet returns log det of the matrix SolveDampedTo inverts:
// Σ_ij log(λ_G,i λ_A,j + λ) for exact damping, q·log det(G + √λ/π I) +
// p·log det(A + π√λ I) for factored damping.
func (k *Kron) LogDet(lambda float64) (float64, error) {
	if err := checkLambda(lambda); err != nil {
		return math.NaN(), err
	}
	if k.set.Damping == FactoredDamping {
		return k.logDetFactored(k.factoredShifts(lambda))
	}
	e, err := k.basis()
	if err != nil {
		return math.NaN(), err
	}
	var ld float64
	for _, lg := range e.lg {
		for _, la := range e.la {
			x := lg*la + lambda
			if !(x > 0) {
				return math.NaN(), notPD("Kronecker eigenvalue %v·%v + λ = %v", lg, la, x)
			}
			ld += math.Log(x)
		}
	}
	return ld, nil
}

// Floats returns p² + q², the two factors.
func (k *Kron) Floats() int { return k.p*k.p + k.q*k.q }
