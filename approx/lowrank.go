package approx

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// LowRank is the approximation M̃ = c·U Uᵀ + diag(d) with U n×m, m small,
// c ≥ 0. Damped solves go through the m×m core (Woodbury):
//
//	(D_λ + c U Uᵀ)⁻¹ = D_λ⁻¹ − c D_λ⁻¹ U (I + c Uᵀ D_λ⁻¹ U)⁻¹ Uᵀ D_λ⁻¹,
//
// D_λ = diag(d) + λI, and log-determinants through the matrix determinant
// lemma, log det(D_λ + cUUᵀ) = Σ log(d_i+λ) + log det(I + c Uᵀ D_λ⁻¹ U).
// Both need d_i + λ > 0; blocks of at most 512 rows fall back on a dense
// Cholesky factorisation otherwise.
type LowRank struct {
	u *mat.Dense // n×m; nil when m = 0
	c float64
	d []float64
	n int

	mu     sync.Mutex
	gram   *mat.SymDense // UᵀU when known
	coreOK bool
	coreλ  float64
	core   mat.Cholesky  // I + c Uᵀ D_λ⁻¹ U, or the dense matrix in fallback
	dense  bool          // core holds the dense n×n factorisation
	t, z   *mat.VecDense // length m
	r      *mat.VecDense // length n
}

var _ Approximation = (*LowRank)(nil)

// denseFallbackMax is the largest order solved densely when the diagonal
// part is not positive.
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
	lr := &LowRank{n: n, r: mat.NewVecDense(n, nil)}
	lr.set(uc, 1, dc, nil)
	return lr, nil
}

// set replaces the factors and drops the caches. u may be nil (m = 0) and
// gram, if not nil, must be uᵀu.
func (lr *LowRank) set(u *mat.Dense, c float64, d []float64, gram *mat.SymDense) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if u != nil {
		if _, m := u.Dims(); m == 0 {
			u = nil
		}
	}
	lr.u, lr.c, lr.d, lr.gram, lr.coreOK = u, c, d, gram, false
	if m := lr.rank(); m > 0 && (lr.t == nil || lr.t.Len() != m) {
		lr.t, lr.z = mat.NewVecDense(m, nil), mat.NewVecDense(m, nil)
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

// Rank returns m, the number of columns of U.
func (lr *LowRank) Rank() int {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.rank()
}

// MulVecTo stores d ⊙ v + c U (Uᵀ v) in dst.
func (lr *LowRank) MulVecTo(dst, v []float64) {
	checkVecs(dst, v, lr.n)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	for i, x := range v {
		dst[i] = lr.d[i] * x
	}
	if lr.rank() == 0 || lr.c == 0 {
		return
	}
	lr.t.MulVec(lr.u.T(), mat.NewVecDense(lr.n, v))
	lr.r.MulVec(lr.u, lr.t)
	for i, x := range lr.r.RawVector().Data {
		dst[i] += lr.c * x
	}
}

// factor prepares the solve for λ; the caller holds lr.mu.
func (lr *LowRank) factor(lambda float64) error {
	if err := checkLambda(lambda); err != nil {
		return err
	}
	if lr.coreOK && lr.coreλ == lambda {
		return nil
	}
	lr.coreλ = lambda
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
	if !positive {
		if lr.n > denseFallbackMax {
			return fmt.Errorf("approx: low-rank solve needs d+λ > 0 for blocks of more than %d rows", denseFallbackMax)
		}
		lr.dense = true
		lr.coreOK = lr.core.Factorize(shiftedSym(lr.denseLocked(), lambda))
		if !lr.coreOK {
			return notPD("Cholesky of a %d×%d low-rank block + %v·I failed", lr.n, lr.n, lambda)
		}
		return nil
	}
	lr.dense = false
	if m == 0 || lr.c == 0 {
		lr.coreOK = true
		return nil
	}
	core := mat.NewSymDense(m, nil)
	if uniform {
		if lr.gram == nil {
			lr.gram = mat.NewSymDense(m, nil)
			lr.gram.SymOuterK(1, lr.u.T())
		}
		core.ScaleSym(lr.c/(lr.d[0]+lambda), lr.gram)
	} else {
		scaled := mat.DenseCopyOf(lr.u)
		for i := 0; i < lr.n; i++ {
			row := scaled.RawRowView(i)
			s := math.Sqrt(lr.c / (lr.d[i] + lambda))
			for j := range row {
				row[j] *= s
			}
		}
		core.SymOuterK(1, scaled.T())
	}
	for i := 0; i < m; i++ {
		core.SetSym(i, i, core.At(i, i)+1)
	}
	lr.coreOK = lr.core.Factorize(core)
	if !lr.coreOK {
		return notPD("Woodbury core of a low-rank block is not positive definite")
	}
	return nil
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
		cholSolveVec(&lr.core, dst, v)
		return nil
	}
	for i, x := range v {
		dst[i] = x / (lr.d[i] + lambda)
	}
	if lr.rank() == 0 || lr.c == 0 {
		return nil
	}
	y := mat.NewVecDense(lr.n, dst)
	lr.t.MulVec(lr.u.T(), y)
	cholSolveVec(&lr.core, lr.z.RawVector().Data, lr.t.RawVector().Data)
	lr.r.MulVec(lr.u, lr.z)
	for i, x := range lr.r.RawVector().Data {
		dst[i] -= lr.c * x / (lr.d[i] + lambda)
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

// LogDet returns log det M̃.
func (lr *LowRank) LogDet() (float64, error) { return lr.LogDetDamped(0) }

// LogDetDamped returns log det(M̃ + λI).
func (lr *LowRank) LogDetDamped(lambda float64) (float64, error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if err := lr.factor(lambda); err != nil {
		return math.NaN(), err
	}
	if lr.dense {
		return lr.core.LogDet(), nil
	}
	var ld float64
	for _, di := range lr.d {
		ld += math.Log(di + lambda)
	}
	if lr.rank() > 0 && lr.c != 0 {
		ld += lr.core.LogDet()
	}
	return ld, nil
}

// Floats returns n·m + n.
func (lr *LowRank) Floats() int {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.n*lr.rank() + lr.n
}
