package approx

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/symeig"
)

// LowRank is M̃ = c·U Uᵀ + diag(d), U n×m, c ≥ 0, solved through m×m
// matrices by the Woodbury identity arranged to stay stable when λ ≪ c‖U‖²:
// with D_λ = diag(d) + λI, D_λ^(−1/2) U = Q R and c R Rᵀ = P diag(s) Pᵀ,
//
//	M̃ + λI = D_λ^(1/2) (I + Y diag(s) Yᵀ) D_λ^(1/2),  Y = Q P,
//	log det(M̃ + λI) = Σ log(d_i+λ) + Σ log(1+s_k).
//
// Blocks with n ≤ m or some d_i + λ ≤ 0 are factored densely (n ≤ 512).
type LowRank struct {
	u *mat.Dense // n×m; nil when m = 0
	c float64
	d []float64
	n int

	mu     sync.Mutex
	factOK bool
	factλ  float64
	dense  bool         // chol holds the dense n×n factorisation
	chol   mat.Cholesky // dense fallback
	qU     bool         // q, r hold the QR of U itself (uniform diagonal)
	q      *mat.Dense   // n×m orthonormal
	r      *mat.Dense   // m×m upper triangular
	p      *mat.Dense   // m×m eigenvectors of c R Rᵀ
	s      []float64    // its eigenvalues, clipped at 0
	sc     []float64    // 1/√(d_i+λ)
	t, w   []float64    // length m work space
	z      []float64    // length n work space
}

var _ Approximation = (*LowRank)(nil)

// denseFallbackMax is the largest order factored densely.
const denseFallbackMax = 512

// NewLowRank returns U Uᵀ + diag(d); u and d are copied, d nil means zero.
// It returns an error for non-finite values or a size mismatch and a
// *curvature.BudgetError when n·m + n floats exceed budget.
func NewLowRank(u mat.Matrix, d []float64, budget int) (*LowRank, error) {
	n, m := u.Dims()
	if n == 0 {
		return nil, fmt.Errorf("approx: low rank with no rows")
	}
	if d != nil && len(d) != n {
		return nil, fmt.Errorf("approx: diagonal of length %d for %d rows", len(d), n)
	}
	if err := curvature.CheckFloats("low rank", n*m+n, budget); err != nil {
		return nil, err
	}
	uc := mat.DenseCopyOf(u)
	for i := 0; i < n; i++ {
		if err := checkFiniteVec("U row", uc.RawRowView(i)); err != nil {
			return nil, err
		}
	}
	dc := make([]float64, n)
	if d != nil {
		if err := checkFiniteVec("diagonal", d); err != nil {
			return nil, err
		}
		copy(dc, d)
	}
	lr := &LowRank{n: n}
	lr.set(uc, 1, dc)
	return lr, nil
}

// set replaces the factors and drops the caches. u may be nil (m = 0).
func (lr *LowRank) set(u *mat.Dense, c float64, d []float64) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if u != nil {
		if _, m := u.Dims(); m == 0 {
			u = nil
		}
	}
	lr.u, lr.c, lr.d = u, c, d
	lr.factOK, lr.qU = false, false
	if len(lr.z) != lr.n {
		lr.z, lr.sc = make([]float64, lr.n), make([]float64, lr.n)
	}
	if m := lr.rank(); len(lr.t) < m {
		lr.t, lr.w = make([]float64, m), make([]float64, m)
	}
}

func (lr *LowRank) rank() int {
	if lr.u == nil {
		return 0
	}
	_, m := lr.u.Dims()
	return m
}

// Dim returns n.
func (lr *LowRank) Dim() int { return lr.n }

// MulVecTo stores d ⊙ v + c U (Uᵀ v) in dst.
func (lr *LowRank) MulVecTo(dst, v []float64) {
	checkVecs(dst, v, lr.n)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	for i, x := range v {
		dst[i] = lr.d[i] * x
	}
	m := lr.rank()
	if m == 0 || lr.c == 0 {
		return
	}
	t := lr.t[:m]
	mulTVec(t, lr.u, v)
	for i := 0; i < lr.n; i++ {
		dst[i] += lr.c * floats.Dot(lr.u.RawRowView(i), t)
	}
}

// mulTVec stores aᵀ·v in dst (a is n×m, v length n).
func mulTVec(dst []float64, a *mat.Dense, v []float64) {
	for j := range dst {
		dst[j] = 0
	}
	n, _ := a.Dims()
	for i := 0; i < n; i++ {
		floats.AddScaled(dst, v[i], a.RawRowView(i))
	}
}

// subMulVec stores v − a·t in v.
func subMulVec(v []float64, a *mat.Dense, t []float64) {
	for i := range v {
		v[i] -= floats.Dot(a.RawRowView(i), t)
	}
}

// factor prepares solves and log-determinants for λ; the caller holds
// lr.mu.
func (lr *LowRank) factor(lambda float64) error {
	if err := checkLambda(lambda); err != nil {
		return err
	}
	if lr.factOK && lr.factλ == lambda {
		return nil
	}
	lr.factOK, lr.factλ = false, lambda
	positive, uniform := true, true
	for _, di := range lr.d {
		if !(di+lambda > 0) {
			positive = false
		}
		if di != lr.d[0] {
			uniform = false
		}
	}
	m := lr.rank()
	lr.dense = !positive || (m >= lr.n && lr.c != 0)
	if lr.dense {
		if lr.n > denseFallbackMax {
			return fmt.Errorf("approx: low-rank solve needs d+λ > 0 for blocks of more than %d rows", denseFallbackMax)
		}
		if !lr.chol.Factorize(shiftedSym(lr.denseLocked(), lambda)) {
			return notPD("Cholesky of a %d×%d low-rank block + %v·I failed", lr.n, lr.n, lambda)
		}
		lr.factOK = true
		return nil
	}
	for i, di := range lr.d {
		lr.sc[i] = 1 / math.Sqrt(di+lambda)
	}
	if m == 0 || lr.c == 0 {
		lr.s = lr.s[:0]
		lr.factOK = true
		return nil
	}
	// Thin QR of D_λ^(−1/2) U, or of U once when the diagonal is uniform
	// (the scale then moves into c).
	scale := lr.c
	if uniform {
		scale = lr.c / (lr.d[0] + lambda)
	}
	if !uniform || !lr.qU {
		a := mat.DenseCopyOf(lr.u)
		if !uniform {
			for i := 0; i < lr.n; i++ {
				floats.Scale(lr.sc[i], a.RawRowView(i))
			}
		}
		lr.q, lr.r = thinQR(a)
		lr.qU = uniform
	}
	k := mat.NewSymDense(m, nil)
	k.SymOuterK(scale, lr.r)
	var es symeig.EigenSym
	if !es.Factorize(k, true) {
		return fmt.Errorf("approx: eigendecomposition of a low-rank core failed")
	}
	if cap(lr.s) < m {
		lr.s = make([]float64, m)
	}
	lr.s = es.Values(lr.s[:m])
	for i, x := range lr.s {
		lr.s[i] = max(x, 0)
	}
	if lr.p == nil {
		lr.p = &mat.Dense{}
	} else {
		lr.p.Reset()
	}
	es.VectorsTo(lr.p)
	lr.factOK = true
	return nil
}

// thinQR returns the n×m orthonormal Q and m×m upper triangular R of a
// (n ≥ m) by Householder reflections; a is overwritten.
func thinQR(a *mat.Dense) (q, r *mat.Dense) {
	n, m := a.Dims()
	raw := a.RawMatrix()
	tau := make([]float64, m)
	work := make([]float64, 1)
	lapack64.Geqrf(raw, tau, work, -1)
	work = make([]float64, max(int(work[0]), n, m))
	lapack64.Geqrf(raw, tau, work, len(work))
	r = mat.NewDense(m, m, nil)
	for i := 0; i < m; i++ {
		copy(r.RawRowView(i)[i:], raw.Data[i*raw.Stride+i:i*raw.Stride+m])
	}
	lapack64.Orgqr(raw, tau, work, len(work))
	return a, r
}

// SolveDampedTo stores (c U Uᵀ + diag(d) + λI)⁻¹·v in dst.
func (lr *LowRank) SolveDampedTo(dst, v []float64, lambda float64) error {
	checkVecs(dst, v, lr.n)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if err := lr.factor(lambda); err != nil {
		return err
	}
	if lr.dense {
		cholSolveVec(&lr.chol, dst, v)
		return nil
	}
	m := len(lr.s)
	if m == 0 {
		for i, x := range v {
			dst[i] = x * lr.sc[i] * lr.sc[i]
		}
		return nil
	}
	z, t, w := lr.z, lr.t[:m], lr.w[:m]
	for i, x := range v {
		z[i] = x * lr.sc[i]
	}
	// z = z⊥ + Q t, projecting twice so z⊥ has no component along Q
	// beyond rounding of rounding.
	mulTVec(t, lr.q, z)
	subMulVec(z, lr.q, t)
	mulTVec(w, lr.q, z)
	subMulVec(z, lr.q, w)
	floats.Add(t, w)
	// Along Q = Y Pᵀ the operator is I + diag(s) in the basis P.
	mulTVec(w, lr.p, t) // w = Pᵀ t
	for k, sk := range lr.s {
		w[k] /= 1 + sk
	}
	for i := 0; i < m; i++ { // t = P w
		t[i] = floats.Dot(lr.p.RawRowView(i), w)
	}
	for i := 0; i < lr.n; i++ {
		dst[i] = (z[i] + floats.Dot(lr.q.RawRowView(i), t)) * lr.sc[i]
	}
	return nil
}

// denseLocked returns c U Uᵀ + diag(d); the caller holds lr.mu.
func (lr *LowRank) denseLocked() *mat.SymDense {
	m := mat.NewSymDense(lr.n, nil)
	if lr.rank() > 0 && lr.c != 0 {
		m.SymOuterK(lr.c, lr.u)
	}
	for i, di := range lr.d {
		m.SetSym(i, i, m.At(i, i)+di)
	}
	return m
}

// Dense returns c U Uᵀ + diag(d).
func (lr *LowRank) Dense() *mat.SymDense {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.denseLocked()
}

// Trace returns Σ d_i + c‖U‖_F².
func (lr *LowRank) Trace() float64 {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	var t float64
	for _, di := range lr.d {
		t += di
	}
	if lr.rank() > 0 {
		f := mat.Norm(lr.u, 2)
		t += lr.c * f * f
	}
	return t
}

// LogDet returns log det(M̃ + λI).
func (lr *LowRank) LogDet(lambda float64) (float64, error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if err := lr.factor(lambda); err != nil {
		return math.NaN(), err
	}
	if lr.dense {
		return lr.chol.LogDet(), nil
	}
	var ld float64
	for _, sc := range lr.sc {
		ld -= 2 * math.Log(sc)
	}
	for _, sk := range lr.s {
		ld += math.Log1p(sk)
	}
	return ld, nil
}

// Floats returns n·m + n.
func (lr *LowRank) Floats() int {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.n*lr.rank() + lr.n
}
