package spectral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// Hutchinson estimates the trace and the diagonal of an operator from
// Products random probes z with E[zzᵀ] = I (Hutchinson 1990; Bekas,
// Kokiopoulou & Saad 2007 for the diagonal):
//
//	tr(M) ≈ (1/m) Σ_s z_sᵀMz_s,    diag(M) ≈ Σ_s z_s ⊙ Mz_s ⊘ Σ_s z_s ⊙ z_s.
//
// Rademacher probes (±1, the default) give the smallest variance,
// 2(‖M‖_F² − Σ M_ii²)/m for the trace; Gaussian probes give 2‖M‖_F²/m.
// With Rademacher probes z ⊙ z = 1, the diagonal estimate is
// (1/m) Σ z_s ⊙ Mz_s, unbiased with Var d̂_i = Σ_{j≠i} M_ij²/m. It is the
// toolkit's one Hutchinson estimator: approx.NewDiagonal turns a diagonal
// estimate into an approximation.
type Hutchinson struct {
	// Products is the number of probes, one product each. If it is 0,
	// it defaults to 30.
	Products int
	// Gaussian draws N(0, 1) probes instead of Rademacher ones.
	Gaussian bool
	// Rand draws the probes. If it is nil, a generator seeded with Seed is
	// used.
	Rand *rand.Rand
	Seed uint64
	// Budget caps the memory, in float64 values (see Floats): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
}

func products(setting string, m, def, least int) (int, error) {
	if m == 0 {
		return def, nil
	}
	if m < least {
		return 0, badSetting(setting, m, fmt.Sprintf("must be at least %d", least))
	}
	return m, nil
}

// Floats returns the float64 values Trace or Diagonal allocates for an
// operator of dimension n: the probe, its product and, for Diagonal, the
// normalisation Σ z ⊙ z. (Diagonal's dst is the caller's.)
func (h *Hutchinson) Floats(n int) int { return 3 * n }

// Trace returns the Hutchinson estimate of tr(op).
func (h *Hutchinson) Trace(op curvature.Operator) (Estimate, error) {
	n, err := dim("Hutchinson trace", op)
	if err != nil {
		return Estimate{}, err
	}
	m, err := products("Hutchinson.Products", h.Products, 30, 1)
	if err != nil {
		return Estimate{}, err
	}
	if err := curvature.CheckFloats("hutchinson trace", h.Floats(n), h.Budget); err != nil {
		return Estimate{}, err
	}
	return probeMean(op, m, h.Gaussian, source(h.Rand, h.Seed), func(z, mz []float64) float64 { return floats.Dot(z, mz) })
}

// probeMean returns the mean, with its standard error, of stat(z, Mz) over
// m probes z, Gaussian or Rademacher.
func probeMean(op curvature.Operator, m int, gauss bool, rnd *rand.Rand, stat func(z, mz []float64) float64) (Estimate, error) {
	n := op.Dim()
	z, mz := make([]float64, n), make([]float64, n)
	var est Estimate
	var w welford
	for s := 0; s < m; s++ {
		probe(z, rnd, gauss)
		if err := mulVec(mz, op, z, &est.Products); err != nil {
			return Estimate{}, err
		}
		w.add(stat(z, mz))
	}
	est.Value, est.StdErr = w.mean, w.stdErr()
	return est, nil
}

// welford is Welford's running mean and sum of squared deviations.
type welford struct {
	n        int
	mean, m2 float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += d * (x - w.mean)
}

// stdErr is the standard error of the mean: NaN with fewer than two
// samples.
func (w *welford) stdErr() float64 {
	if w.n < 2 {
		return math.NaN()
	}
	return math.Sqrt(w.m2 / float64(w.n-1) / float64(w.n))
}

// Diagonal stores the Hutchinson estimate of diag(op) in dst, which must
// have length op.Dim(), and returns the products spent.
func (h *Hutchinson) Diagonal(dst []float64, op curvature.Operator) (int, error) {
	n, err := dim("Hutchinson diagonal", op)
	if err != nil {
		return 0, err
	}
	if len(dst) != n {
		panic(fmt.Sprintf("spectral: diagonal of length %d for an operator of dimension %d", len(dst), n))
	}
	m, err := products("Hutchinson.Products", h.Products, 30, 1)
	if err != nil {
		return 0, err
	}
	if err := curvature.CheckFloats("hutchinson diagonal", h.Floats(n), h.Budget); err != nil {
		return 0, err
	}
	rnd := source(h.Rand, h.Seed)
	z, mz, zz := make([]float64, n), make([]float64, n), make([]float64, n)
	clear(dst)
	prods := 0
	for s := 0; s < m; s++ {
		probe(z, rnd, h.Gaussian)
		if err := mulVec(mz, op, z, &prods); err != nil {
			return prods, err
		}
		for i, zi := range z {
			dst[i] += zi * mz[i]
			zz[i] += zi * zi
		}
	}
	for i := range dst {
		dst[i] /= zz[i] // m for Rademacher probes
	}
	return prods, nil
}

// HutchPlusPlus estimates the trace with Hutch++ (Meyer, Musco, Musco &
// Woodruff 2021): a third of the products finds Q, an orthonormal basis of
// M·S for random S, whose part of the trace, tr(QᵀMQ), is computed
// exactly with another third; the rest is Hutchinson's estimate of the
// trace of the deflated (I − QQᵀ)M(I − QQᵀ):
//
//	tr(M) ≈ tr(QᵀMQ) + (1/r) Σ_s g_sᵀ(I − QQᵀ)M(I − QQᵀ)g_s.
//
// For a positive semidefinite M it reaches relative error ε with
// O(1/ε) products where Hutchinson needs O(1/ε²), and it is much better
// whenever the spectrum decays. If M·S has rank below m/3 (M of low
// rank), the unused products go to the residual estimate.
type HutchPlusPlus struct {
	// Products is the total number of products, at least 3. If it is 0,
	// it defaults to 30.
	Products int
	// Rand draws S and the probes (Rademacher). If it is nil, a generator
	// seeded with Seed is used.
	Rand *rand.Rand
	Seed uint64
	// Budget caps the memory, in float64 values (see Floats): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
}

// Floats returns the float64 values Trace allocates for an operator of
// dimension n: the basis Q (n × Products/3) and three work vectors.
func (h *HutchPlusPlus) Floats(n int) int {
	m, err := products("HutchPlusPlus.Products", h.Products, 30, 3)
	if err != nil {
		return 0
	}
	return n*min(m/3, n) + 3*n
}

// Trace returns the Hutch++ estimate of tr(op); StdErr is that of the
// residual part (the low-rank part has none).
func (h *HutchPlusPlus) Trace(op curvature.Operator) (Estimate, error) {
	n, err := dim("Hutch++ trace", op)
	if err != nil {
		return Estimate{}, err
	}
	m, err := products("HutchPlusPlus.Products", h.Products, 30, 3)
	if err != nil {
		return Estimate{}, err
	}
	if err := curvature.CheckFloats("hutch++ trace", h.Floats(n), h.Budget); err != nil {
		return Estimate{}, err
	}
	rnd := source(h.Rand, h.Seed)
	k := min(m/3, n)
	kr := newBasis(n, k) // Q, filled with orthonormalised M·s_j
	z, mz := make([]float64, n), make([]float64, n)
	var est Estimate
	for j := 0; j < k; j++ {
		rademacher(z, rnd)
		if err := mulVec(mz, op, z, &est.Products); err != nil {
			return Estimate{}, err
		}
		kr.push(mz)
	}
	// tr(QᵀMQ), one product per basis vector.
	for j := 0; j < kr.vecs; j++ {
		qj := kr.row(j)
		if err := mulVec(mz, op, qj, &est.Products); err != nil {
			return Estimate{}, err
		}
		est.Value += floats.Dot(qj, mz)
	}
	if kr.vecs == n {
		est.StdErr = 0 // Q spans R^n: the trace is exact
		return est, nil
	}
	// Hutchinson on the deflated operator with the remaining products.
	r := m - est.Products
	var w welford
	for s := 0; s < r; s++ {
		rademacher(z, rnd)
		kr.orthogonalise(z)
		if err := mulVec(mz, op, z, &est.Products); err != nil {
			return Estimate{}, err
		}
		w.add(floats.Dot(z, mz)) // z ⟂ Q, so zᵀMz = zᵀ(I − QQᵀ)M(I − QQᵀ)z
	}
	est.Value += w.mean
	est.StdErr = w.stdErr()
	return est, nil
}

// newBasis returns an empty orthonormal basis of up to k vectors of
// length n (the storage of a krylov without its recurrence).
func newBasis(n, k int) *krylov {
	return &krylov{n: n, m: k, q: make([]float64, k*n)}
}
