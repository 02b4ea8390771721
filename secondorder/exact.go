package secondorder

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Exact solves the trust-region subproblem to full accuracy, after Moré &
// Sorensen (1983), through the eigendecomposition M = QΛQᵀ. With
// ĝ = Qᵀg and λ₁ ≤ … ≤ λₙ, the solution is p = Qy with
//
//	y_i = −ĝ_i/(λ_i + σ),  σ ≥ max(0, −λ₁),  σ(Δ − ‖y‖) = 0,
//
// and σ, when positive, is the root of the secular equation
// 1/Δ − 1/‖y(σ)‖ = 0, found by Newton's method safeguarded by bisection
// (each iteration costs O(n)). In the hard case — ĝ vanishes on the
// eigenspace of λ₁ < 0 and ‖y(−λ₁)‖ < Δ — no root exists and the step is
// y(−λ₁) plus the multiple of the bottom eigenvector that reaches the
// boundary.
//
// M is materialised when it is matrix-free (n products, within Budget).
// The decomposition is kept and reused while M is unchanged, so the
// re-solves of a trust-region method after a rejected step cost O(n²).
type Exact struct {
	// Budget caps, in float64 values, the dense matrix a matrix-free M is
	// materialised into; 0 means no limit.
	Budget int

	a      *mat.SymDense // the matrix the decomposition belongs to
	eig    mat.EigenSym
	vals   []float64
	vecs   mat.Dense
	valid  bool
	gh, y  []float64
	vecBuf []float64
}

func (e *Exact) wantsDense() (bool, int) { return true, e.Budget }

// Solve stores the exact minimiser of the model on the ball in dst.
func (e *Exact) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius)
	if err != nil {
		return StepInfo{}, err
	}
	var info StepInfo
	a, products, err := asDense(m, e.Budget)
	info.Products = products
	if err != nil {
		return info, err
	}
	if !e.same(a) {
		if err := e.factorize(a); err != nil {
			return info, err
		}
		info.Factorizations = 1
	}
	e.gh = resizeVec(e.gh, n)
	e.y = resizeVec(e.y, n)
	mat.NewVecDense(n, e.gh).MulVec(e.vecs.T(), mat.NewVecDense(n, g))
	sec := solveSecular(e.y, e.vals, e.gh, radius)
	mat.NewVecDense(n, dst).MulVec(&e.vecs, mat.NewVecDense(n, e.y))
	nrm := floats.Norm(dst, 2)
	if nrm > radius {
		floats.Scale(radius/nrm, dst)
		nrm = radius
	}
	// The decrease of the step actually returned, from the dense matrix
	// (no products): y's norm may be off Δ by rounding that the rescaling
	// above removed.
	e.y = resizeVec(e.y, n)
	mp := mat.NewVecDense(n, e.y)
	mp.MulVec(a, mat.NewVecDense(n, dst))
	dec := -floats.Dot(g, dst) - 0.5*floats.Dot(dst, e.y)
	info.Norm = nrm
	info.Decrease = dec
	info.Lambda = sec.sigma
	info.Boundary = sec.boundary
	info.HardCase = sec.hard
	info.NegativeCurvature = e.vals[0] < 0
	info.Iterations = sec.iters
	return info, checkStep(dst, &info)
}

// same reports whether a equals the matrix of the kept decomposition.
func (e *Exact) same(a mat.Symmetric) bool {
	if !e.valid || e.a.SymmetricDim() != a.SymmetricDim() {
		return false
	}
	n := a.SymmetricDim()
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if e.a.At(i, j) != a.At(i, j) {
				return false
			}
		}
	}
	return true
}

func (e *Exact) factorize(a mat.Symmetric) error {
	n := a.SymmetricDim()
	e.valid = false
	if e.a == nil || e.a.SymmetricDim() != n {
		e.a = mat.NewSymDense(n, nil)
	}
	e.a.CopySym(a)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if v := e.a.At(i, j); !finite(v) {
				return fmt.Errorf("%w: curvature matrix has %v at (%d, %d)", ErrNonFinite, v, i, j)
			}
		}
	}
	if !e.eig.Factorize(e.a, true) {
		return fmt.Errorf("secondorder: eigendecomposition of the curvature failed")
	}
	e.vals = e.eig.Values(resizeVec(e.vals, n))
	e.vecs.Reset()
	e.eig.VectorsTo(&e.vecs)
	e.valid = true
	return nil
}

type secularResult struct {
	sigma          float64
	hard, boundary bool
	iters          int
}

// solveSecular stores in y the minimiser of ĝᵀy + ½Σλ_i y_i² over ‖y‖ ≤ Δ,
// for eigenvalues lam in ascending order.
func solveSecular(y, lam, gh []float64, delta float64) secularResult {
	n := len(lam)
	const eps = 0x1p-52
	l1 := lam[0]
	anorm := math.Max(math.Abs(lam[0]), math.Abs(lam[n-1]))
	clusterTol := 16 * float64(n) * eps * anorm
	gnorm := floats.Norm(gh, 2)

	lo := math.Max(0, -l1)
	// k eigenvalues form the bottom cluster, numerically equal to λ₁.
	k := 1
	for k < n && lam[k]-l1 <= clusterTol {
		k++
	}
	gc := floats.Norm(gh[:k], 2)
	if gc <= 1e3*eps*gnorm {
		// ĝ vanishes on the bottom eigenspace: y(σ) stays bounded as
		// σ → −λ₁, and if it is inside, that is the hard case.
		clear(y[:k])
		for i := k; i < n; i++ {
			y[i] = -gh[i] / (lam[i] + lo)
		}
		if yn := floats.Norm(y, 2); yn <= delta {
			if l1 >= 0 {
				// Positive semidefinite: the minimum-norm minimiser is
				// interior; moving along the null space changes nothing.
				return secularResult{}
			}
			fillBoundary(y[:k], gh[:k], gc, math.Sqrt(delta*delta-yn*yn))
			return secularResult{sigma: lo, hard: true, boundary: true}
		}
	}

	// Interior: M positive semidefinite and the Newton step, where it
	// exists, inside. (secularNorms is +Inf when some λ_i = 0 with ĝ_i ≠ 0.)
	if l1 >= 0 {
		if yn, _ := secularNorms(lam, gh, 0); yn <= delta {
			for i := range y {
				y[i] = 0
				if gh[i] != 0 {
					y[i] = -gh[i] / lam[i]
				}
			}
			return secularResult{}
		}
	}

	// The root σ* of 1/Δ − 1/‖y(σ)‖ lies in (lo, hi]: at hi every
	// λ_i + σ ≥ ‖g‖/Δ, so ‖y‖ ≤ Δ.
	hi := lo + gnorm/delta
	sigma := hi
	res := secularResult{boundary: true}
	for res.iters = 1; res.iters <= 300; res.iters++ {
		yn, qn := secularNorms(lam, gh, sigma)
		if math.Abs(yn-delta) <= 1e-13*delta {
			break
		}
		if yn > delta {
			lo = sigma
		} else {
			hi = sigma
		}
		// σ is only meaningful to about ε·‖M‖, the accuracy of λ_i + σ.
		if hi-lo <= 4*eps*math.Max(hi, anorm) {
			sigma = hi
			break
		}
		// Newton's step on 1/Δ − 1/‖y‖ (Nocedal & Wright, Alg. 4.3):
		// from the left of the root it converges monotonically; from the
		// right it may overshoot past lo, where bisection takes over.
		next := sigma + (yn/qn)*(yn/qn)*(yn-delta)/delta
		if !(next > lo && next < hi) {
			next = lo + 0.5*(hi-lo)
		}
		sigma = next
	}
	res.sigma = sigma
	for i := range y {
		d := lam[i] + sigma
		if d <= 0 {
			// σ = −λ₁ to rounding: the component is left to the fill below.
			y[i] = 0
			continue
		}
		y[i] = -gh[i] / d
	}
	// If σ could not be resolved (it sits within rounding of −λ₁, so the
	// bottom-cluster components are noise), put the step on the sphere
	// through those components, along −ĝ there, as in the hard case: the
	// others are accurate, and the model changes along the bottom
	// eigenspace only by ĝ_Cᵀy_C + ½λ₁‖y_C‖², which this choice minimises.
	yn := floats.Norm(y, 2)
	if math.Abs(yn-delta) > 1e-12*delta {
		rest := yn*yn - floats.Dot(y[:k], y[:k])
		if rest <= delta*delta {
			fillBoundary(y[:k], gh[:k], gc, math.Sqrt(delta*delta-rest))
			res.hard = l1 < 0
			return res
		}
	}
	// On the boundary ∇m(y) = −σy with σ > 0, so moving outward lowers the
	// model: put y exactly on the sphere.
	if yn > 0 {
		floats.Scale(delta/yn, y)
	}
	return res
}

// fillBoundary sets y (on the bottom eigenspace) to length tau along −ĝ
// there, or along its first eigenvector when ĝ vanishes on it.
func fillBoundary(y, gh []float64, gc, tau float64) {
	clear(y)
	if gc == 0 {
		y[0] = tau
		return
	}
	floats.ScaleTo(y, -tau/gc, gh)
}

// secularNorms returns ‖y(σ)‖ and ‖q(σ)‖ with q_i = y_i/√(λ_i + σ), that is
// √Σĝ²/(λ+σ)² and √Σĝ²/(λ+σ)³.
func secularNorms(lam, gh []float64, sigma float64) (yn, qn float64) {
	var s2, s3 float64
	for i, g := range gh {
		if g == 0 {
			continue
		}
		d := lam[i] + sigma
		if d <= 0 {
			return math.Inf(1), math.Inf(1)
		}
		t := g / d
		s2 += t * t
		s3 += t * t / d
	}
	return math.Sqrt(s2), math.Sqrt(s3)
}
