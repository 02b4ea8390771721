package secondorder

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/symeig"
)

// Exact solves the trust-region subproblem to a set accuracy, after Moré &
// Sorensen (1983), through the eigendecomposition M = QΛQᵀ. With
// ĝ = Qᵀg and λ₁ ≤ … ≤ λₙ, the solution is p = Qy with
//
//	y_i = −ĝ_i/(λ_i + σ),  σ ≥ max(0, −λ₁),  σ(Δ − ‖y‖) = 0.
//
// σ comes from Moré & Sorensen's safeguarded Newton iteration on the
// secular equation 1/Δ − 1/‖y(σ)‖ = 0, started, bounded and stopped as
// SciPy's trust-exact (scipy.optimize IterativeSubproblem) does, so that
// with the default tolerances TrustRegion{Solver: &Exact{}} takes SciPy's
// steps. The eigendecomposition makes an iteration O(n) where SciPy
// factorises M + σI: ‖y‖ and ‖(Λ+σI)^{-1/2}y‖ come from Λ, and the bottom
// eigenpair (λ₁, q₁) stands for the LINPACK estimate of the smallest
// singular value and vector of the Cholesky factor. Where M + σI is not
// positive definite, the lower bound on σ is raised as Moré & Sorensen
// and SciPy raise it, from the failed Cholesky factorisation, and not to
// the −λ₁ the eigendecomposition knows: that weaker bound is what puts the
// iterates, and so the step the tolerances accept, where SciPy puts them.
// The iteration stops at the first σ with M + σI positive definite where
//
//   - σ = 0 and ‖y(0)‖ ≤ Δ: the interior Newton step, exact;
//   - ‖y‖ ≥ Δ and ‖y‖ − Δ ≤ EasyTol·Δ (the easy-case test): y is returned
//     as it is, so the step can be up to (1 + EasyTol)Δ long, outside the
//     region. It is then the exact minimiser of the model on the ball of
//     radius ‖y‖, so it decreases the model at least as much as the
//     optimal step on the ball of radius Δ. SciPy returns it the same way
//     (Moré & Sorensen accept |‖y‖ − Δ| ≤ σ₁Δ on both sides, and their
//     convergence theory allows steps up to (1 + σ₁)Δ); TrustRegion
//     evaluates it unchanged, counts it as reaching the boundary, and
//     updates Δ, not ‖p‖;
//   - ‖y‖ < Δ and, with τ the smaller root in magnitude of ‖y + τq₁‖ = Δ,
//     τ²(λ₁ + σ) ≤ HardTol·(yᵀ(Λ+σI)y + σΔ²) (the hard-case test): the
//     step y + τq₁, on the boundary, is returned. Since every feasible p
//     has m(p) ≥ −½(yᵀ(Λ+σI)y + σΔ²) and m(y + τq₁) exceeds that bound
//     by ½τ²(λ₁ + σ), its model value is at most (1 − HardTol) times the
//     optimal one. The test ends the hard case (ĝ ⟂ q₁, no root) but also
//     easy cases whose iterate lands just inside the boundary, and
//     StepInfo.HardCase then reports a step completed along q₁.
//
// So with the defaults a step may be worse than the Cauchy point (by at
// most the factor 1 − HardTol on the optimum) or longer than Δ. Tight
// tolerances (1e-10 or below) give the exact solution to about that
// relative accuracy and an exact path. If the iteration has not stopped
// after 50 steps (SciPy stops at 25 and returns the last iterate), σ is
// found to rounding instead: Newton's method from the right with
// bisection, and the hard case — ĝ vanishing on the eigenspace of
// λ₁ < 0 with ‖y(−λ₁)‖ < Δ — completed along q₁. A zero gradient gives
// the zero step, or Δq₁ with σ = −λ₁ when λ₁ < 0.
//
// M is materialised when it is matrix-free (n products, within Budget).
// The decomposition is kept and reused while M is unchanged, so the
// re-solves of a trust-region method after a rejected step cost O(n²),
// plus O(n³) for each failed Cholesky factorisation (counted in
// StepInfo.Factorizations). As in SciPy, the lower bound on σ left by a
// solve starts the next one when the radius shrinks and M and g are
// unchanged (σ*(Δ) decreases with Δ).
type Exact struct {
	// EasyTol is the relative tolerance of the easy-case test,
	// ‖p‖ − Δ ≤ EasyTol·Δ: SciPy's k_easy, Moré & Sorensen's σ₁. If it is
	// 0, it defaults to SciPy's 0.1; it must be in [0, 1). Set 1e-10 or
	// less (with HardTol) to solve the subproblem to that accuracy.
	EasyTol float64
	// HardTol is the relative tolerance of the hard-case test, the
	// fraction of the optimal model decrease a step completed along q₁
	// may fall short by: SciPy's k_hard, σ₁(2 − σ₁) in Moré & Sorensen's
	// test (MINPACK-2's dgqt). If it is 0, it defaults to SciPy's 0.2; it
	// must be in [0, 1).
	HardTol float64
	// Budget caps, in float64 values, the dense matrix a matrix-free M is
	// materialised into (0: curvature.DefaultBudget; negative: no limit).
	Budget int

	a     *mat.SymDense // the matrix the decomposition belongs to
	eig   symeig.EigenSym
	vals  []float64
	vecs  mat.Dense
	valid bool
	gh, y []float64

	// Bounds of M's spectrum from its entries (SciPy's starting
	// interval for σ): Gershgorin, Frobenius and ∞-norm, smallest diagonal.
	gershLo, gershHi, fro, inf, minDiag float64

	// The gradient, radius and lower bound on σ of the last solve, reused
	// when the radius shrinks with M and g unchanged.
	lastG                 []float64
	prevRadius, prevLower float64
	chol                  []float64 // scratch of leadingBound
}

// Validate checks the tolerances.
func (e *Exact) Validate() error {
	if !(e.EasyTol >= 0 && e.EasyTol < 1) {
		return badSetting("Exact.EasyTol", e.EasyTol, "must be in [0, 1)")
	}
	if !(e.HardTol >= 0 && e.HardTol < 1) {
		return badSetting("Exact.HardTol", e.HardTol, "must be in [0, 1)")
	}
	return nil
}

func (e *Exact) tolerances() (easy, hard float64) {
	easy, hard = e.EasyTol, e.HardTol
	if easy == 0 {
		easy = 0.1
	}
	if hard == 0 {
		hard = 0.2
	}
	return easy, hard
}

func (e *Exact) wantsDense() (bool, int) { return true, e.Budget }

// Solve stores the nearly exact minimiser of the model on the ball in
// dst. Its norm may exceed radius by EasyTol·radius (see Exact).
func (e *Exact) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius)
	if err != nil {
		return StepInfo{}, err
	}
	if err := e.Validate(); err != nil {
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
	if !floats.Equal(e.lastG, g) {
		e.lastG = append(e.lastG[:0], g...)
		e.prevRadius = -1
	}
	e.gh = resizeVec(e.gh, n)
	e.y = resizeVec(e.y, n)
	mat.NewVecDense(n, e.gh).MulVec(e.vecs.T(), mat.NewVecDense(n, g))
	easy, hard := e.tolerances()
	sec, ok := e.iterate(e.y, radius, easy, hard)
	if !ok {
		exact := solveSecular(e.y, e.vals, e.gh, radius)
		exact.iters += sec.iters
		exact.chols = sec.chols
		sec = exact
	}
	mat.NewVecDense(n, dst).MulVec(&e.vecs, mat.NewVecDense(n, e.y))
	nrm := floats.Norm(dst, 2)
	if !sec.outside && nrm > radius {
		// A step meant to be on the sphere, off it by rounding.
		floats.Scale(radius/nrm, dst)
		nrm = radius
	}
	// The decrease of the step actually returned, from the dense matrix
	// (no products).
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
	info.Factorizations += sec.chols
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
	e.prevRadius = -1
	if e.a == nil || e.a.SymmetricDim() != n {
		e.a = mat.NewSymDense(n, nil)
	}
	e.a.CopySym(a)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if v := e.a.At(i, j); !finite(v) {
				return fmt.Errorf("secondorder: %w: curvature matrix has %v at (%d, %d)", curvature.ErrNonFinite, v, i, j)
			}
		}
	}
	if !e.eig.Factorize(e.a, true) {
		return fmt.Errorf("secondorder: eigendecomposition of the curvature failed")
	}
	e.vals = e.eig.Values(resizeVec(e.vals, n))
	e.vecs.Reset()
	e.eig.VectorsTo(&e.vecs)
	e.bounds()
	e.valid = true
	return nil
}

// bounds computes the spectral bounds SciPy starts σ from (Conn, Gould &
// Toint 2000, §7.3.8): Gershgorin's interval, ‖M‖_F, ‖M‖_∞ and min M_ii.
func (e *Exact) bounds() {
	n := e.a.SymmetricDim()
	e.gershLo, e.gershHi = math.Inf(1), math.Inf(-1)
	e.fro, e.inf, e.minDiag = 0, 0, math.Inf(1)
	for i := 0; i < n; i++ {
		row := 0.0
		for j := 0; j < n; j++ {
			v := e.a.At(i, j)
			row += math.Abs(v)
			e.fro += v * v
		}
		d := e.a.At(i, i)
		off := row - math.Abs(d)
		e.gershLo = math.Min(e.gershLo, d-off)
		e.gershHi = math.Max(e.gershHi, d+off)
		e.inf = math.Max(e.inf, row)
		e.minDiag = math.Min(e.minDiag, d)
	}
	e.fro = math.Sqrt(e.fro)
}

// maxTolerantIters caps the iteration of Exact.iterate before the exact
// secular solve takes over.
const maxTolerantIters = 50

// iterate runs Moré & Sorensen's iteration in the eigenbasis, with SciPy's
// starting values, bound updates and stopping tests (see Exact), storing
// the step in y. It reports false if it did not stop within
// maxTolerantIters iterations.
func (e *Exact) iterate(y []float64, delta, easy, hard float64) (secularResult, bool) {
	lam, gh := e.vals, e.gh
	n := len(lam)
	l1 := lam[0]
	gnorm := floats.Norm(gh, 2)
	if tiny := float64(n) * 0x1p-52 * e.inf; gnorm <= tiny {
		// g is zero to rounding: the step is 0 if M ⪰ 0 (to rounding),
		// else Δ along the bottom eigenvector with σ = −λ₁ (SciPy
		// iterates towards it).
		clear(y)
		if l1 >= -tiny {
			return secularResult{}, true
		}
		y[0] = delta
		return secularResult{sigma: -l1, hard: true, boundary: true}, true
	}

	// The starting interval for σ (SciPy's _initial_values).
	ub := math.Max(0, gnorm/delta+math.Min(-e.gershLo, math.Min(e.fro, e.inf)))
	lb := math.Max(0, math.Max(-e.minDiag, gnorm/delta-math.Min(e.gershHi, math.Min(e.fro, e.inf))))
	if delta < e.prevRadius {
		// σ*(Δ) decreases with Δ: a bound for the larger radius holds.
		lb = math.Max(lb, e.prevLower)
	}
	between := func() float64 {
		return math.Max(math.Sqrt(math.Abs(lb*ub)), lb+0.01*(ub-lb))
	}
	sigma := 0.0
	if lb > 0 {
		sigma = between()
	}
	defer func() {
		if finite(lb) {
			e.prevRadius, e.prevLower = delta, lb
		}
	}()
	chols := 0 // partial Cholesky factorisations spent on bounds

	it := 1
	for ; it <= maxTolerantIters; it++ {
		if !(sigma+l1 > 0) {
			// M + σI is not positive definite: raise the lower bound from
			// the failed Cholesky factorisation, as Moré & Sorensen and
			// SciPy do (see leadingBound).
			lb = math.Max(lb, e.leadingBound(sigma, l1))
			chols++
			sigma = between()
			continue
		}
		yn, qn := secularNorms(lam, gh, sigma)
		if sigma == 0 && yn <= delta {
			fillSecular(y, lam, gh, 0)
			return secularResult{iters: it, chols: chols}, true
		}
		// Newton's step on 1/Δ − 1/‖y(σ)‖ (Nocedal & Wright eq. 4.44).
		next := sigma + (yn/qn)*(yn/qn)*(yn-delta)/delta
		if !finite(next) {
			// Under- or overflow in the norms: leave σ to the exact solve.
			break
		}
		if yn >= delta {
			if yn-delta <= easy*delta {
				fillSecular(y, lam, gh, sigma)
				return secularResult{sigma: sigma, boundary: true, outside: true, iters: it, chols: chols}, true
			}
			lb = sigma
			sigma = next
			continue
		}
		// Inside: try y + τe₁ on the boundary.
		fillSecular(y, lam, gh, sigma)
		ry := 0.0 // yᵀ(Λ + σI)y = ‖Ry‖² for the Cholesky factor R
		for i, v := range y {
			ry += (lam[i] + sigma) * v * v
		}
		neg, pos := boundaryRoots(yn*yn, y[0], 1, delta)
		tau := pos
		if -neg < pos {
			tau = neg
		}
		smin2 := sigma + l1
		if tau*tau*smin2 <= hard*(ry+sigma*delta*delta) {
			y[0] += tau
			return secularResult{sigma: sigma, boundary: true, hard: true, iters: it, chols: chols}, true
		}
		ub = sigma
		lb = math.Max(lb, sigma-smin2)
		if next+l1 > 0 {
			sigma = next
		} else {
			lb = math.Max(lb, next)
			sigma = between()
		}
	}
	return secularResult{iters: min(it, maxTolerantIters), chols: chols}, false
}

// leadingBound returns Moré & Sorensen's lower bound on −λ₁ from the
// Cholesky factorisation RᵀR of M + σI when it breaks down at pivot k:
// adding δ to entry (k, k) makes the leading k×k block singular with null
// vector v = (−R_{1:k−1}⁻¹r_k, 1, 0, …), so vᵀ(M + σI)v = −δ‖…‖ and
// λ₁ + σ ≤ −δ/‖v‖². The eigendecomposition knows −λ₁ exactly, but this
// weaker bound is the one that places the iterates — and hence the step
// the tolerances accept — where SciPy places them. It falls back to −λ₁
// if the factorisation does not break down in floating point.
func (e *Exact) leadingBound(sigma, l1 float64) float64 {
	n := e.a.SymmetricDim()
	raw := e.a.RawSymmetric()
	e.chol = resizeVec(e.chol, n*n)
	r := e.chol
	for j := 0; j < n; j++ {
		d := raw.Data[j*raw.Stride+j] + sigma
		for i := 0; i < j; i++ {
			v := raw.Data[i*raw.Stride+j]
			for k := 0; k < i; k++ {
				v -= r[k*n+i] * r[k*n+j]
			}
			v /= r[i*n+i]
			r[i*n+j] = v
			d -= v * v
		}
		if d > 0 {
			r[j*n+j] = math.Sqrt(d)
			continue
		}
		// Back-substitute R_{1:j−1} v = −r_j in place of column j.
		vv := 1.0
		for i := j - 1; i >= 0; i-- {
			x := -r[i*n+j]
			for k := i + 1; k < j; k++ {
				x -= r[i*n+k] * r[k*n+j]
			}
			x /= r[i*n+i]
			r[i*n+j] = x
			vv += x * x
		}
		if b := sigma - d/vv; finite(b) {
			return b
		}
		break
	}
	return -l1
}

// fillSecular stores y_i = −ĝ_i/(λ_i + σ), for σ > −λ₁ or ĝ_i = 0 where
// λ_i + σ = 0.
func fillSecular(y, lam, gh []float64, sigma float64) {
	for i, g := range gh {
		y[i] = 0
		if g != 0 {
			y[i] = -g / (lam[i] + sigma)
		}
	}
}

type secularResult struct {
	sigma          float64
	hard, boundary bool
	outside        bool // accepted by the easy test outside the sphere
	iters, chols   int
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
