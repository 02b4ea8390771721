package secondorder

import (
	"cmp"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/symeig"
)

// Exact solves the trust-region subproblem to a set accuracy by the
// algorithm of Moré & Sorensen (1983), as MINPACK-2's dgqt and SciPy's
// trust-exact: p(σ) = −(M + σI)⁻¹g for the σ ≥ 0 with M + σI positive
// semidefinite and σ(Δ − ‖p‖) = 0, by safeguarded Newton iteration on
//
//	1/Δ − 1/‖p(σ)‖ = 0
//
// with a Cholesky factorisation per iterate. It returns the interior Newton
// step; a p with 0 ≤ ‖p‖ − Δ ≤ EasyTol·Δ, so possibly outside the region;
// or p completed to the boundary along an estimated bottom eigenvector
// (StepInfo.HardCase) once that is within the fraction HardTol of the
// optimal decrease. After 50 iterates it solves by an eigendecomposition of
// M instead. A matrix-free M is materialised (n products).
type Exact struct {
	EasyTol float64 // the tolerance on ‖p‖ − Δ, in [0, 1); 0: 0.1, SciPy's
	HardTol float64 // the decrease a boundary step may miss, in [0, 1); 0: 0.5 (SciPy: 0.2)
	Budget  int     // floats a materialised M may take; 0: curvature.DefaultBudget, < 0: no limit

	a     *mat.SymDense // the matrix of the last solve
	valid bool
	r     []float64 // n×n, row-major: the (partial) Cholesky factor R

	// Bounds of M's spectrum from its entries (the starting interval for
	// σ): Gershgorin, Frobenius and ∞-norm, smallest diagonal.
	gershLo, gershHi, fro, inf, minDiag float64

	// The gradient, radius and lower bound on σ of the last solve, reused
	// when the radius shrinks with M and g unchanged.
	lastG                 []float64
	prevRadius, prevLower float64

	// The eigendecomposition of M, formed only for the fallbacks.
	eig      symeig.EigenSym
	vals, gh []float64
	vecs     mat.Dense
	eigValid bool

	w, z, y []float64 // work space
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
	return cmp.Or(e.EasyTol, 0.1), cmp.Or(e.HardTol, 0.5)
}

func (e *Exact) wantsDense() (bool, int) { return true, e.Budget }

// Solve stores the step in dst. Its norm may exceed radius by
// EasyTol·radius.
func (e *Exact) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius, e)
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
		if err := e.load(a); err != nil {
			return info, err
		}
	}
	if !floats.Equal(e.lastG, g) {
		e.lastG = append(e.lastG[:0], g...)
		e.prevRadius = -1
	}
	e.w = resizeVec(e.w, n)
	e.z = resizeVec(e.z, n)
	e.y = resizeVec(e.y, n)
	easy, hard := e.tolerances()
	sec, ok := e.iterate(dst, g, radius, easy, hard)
	if !ok {
		exact, err := e.solveEigen(dst, g, radius)
		if err != nil {
			return info, err
		}
		exact.iters += sec.iters
		exact.chols += sec.chols
		sec = exact
	}
	nrm := floats.Norm(dst, 2)
	if !sec.outside && nrm > radius {
		// A step meant to be on the sphere, off it by rounding.
		floats.Scale(radius/nrm, dst)
		nrm = radius
	}
	// The decrease of the step actually returned, from the dense matrix
	// (no products).
	mp := mat.NewVecDense(n, e.w)
	mp.MulVec(e.a, mat.NewVecDense(n, dst))
	info.Norm = nrm
	info.Decrease = -floats.Dot(g, dst) - 0.5*floats.Dot(dst, e.w)
	info.Lambda = sec.sigma
	info.Boundary = sec.boundary
	info.HardCase = sec.hard
	info.NegativeCurvature = sec.indefinite
	info.Iterations = sec.iters
	info.Factorizations += sec.chols
	return info, checkStep(dst, &info)
}

// same reports whether a equals the matrix of the last solve.
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

// load keeps a copy of a and its spectral bounds.
func (e *Exact) load(a mat.Symmetric) error {
	n := a.SymmetricDim()
	e.valid, e.eigValid = false, false
	e.prevRadius = -1
	if e.a == nil || e.a.SymmetricDim() != n {
		e.a = mat.NewSymDense(n, nil)
	}
	e.a.CopySym(a)
	if err := checkFiniteSym(e.a); err != nil {
		return err
	}
	e.r = resizeVec(e.r, n*n)
	e.bounds()
	e.valid = true
	return nil
}

// bounds computes the spectral bounds σ starts from (Conn, Gould & Toint
// 2000, §7.3.8): Gershgorin's interval, ‖M‖_F, ‖M‖_∞ and min M_ii.
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

// iterate runs Moré & Sorensen's iteration (docs/secondorder.md), storing the step
// in p. It reports false if it did not stop within maxTolerantIters
// iterates, or if g is zero to rounding and M is not positive definite,
// cases solveEigen settles.
func (e *Exact) iterate(p, g []float64, delta, easy, hard float64) (secularResult, bool) {
	n := len(g)
	gnorm := floats.Norm(g, 2)
	if gnorm <= float64(n)*0x1p-52*e.inf {
		// g is zero to rounding: the step is 0 if M is positive definite.
		if e.cholesky(0) == n {
			clear(p)
			return secularResult{chols: 1}, true
		}
		return secularResult{chols: 1, indefinite: true}, false
	}

	// The starting interval for σ.
	hi := math.Max(0, gnorm/delta+math.Min(-e.gershLo, math.Min(e.fro, e.inf)))
	lo := math.Max(0, math.Max(-e.minDiag, gnorm/delta-math.Min(e.gershHi, math.Min(e.fro, e.inf))))
	if delta < e.prevRadius {
		// σ*(Δ) decreases with Δ: a bound for the larger radius holds.
		lo = math.Max(lo, e.prevLower)
	}
	between := func() float64 {
		return math.Max(math.Sqrt(lo*hi), lo+0.01*(hi-lo))
	}
	sigma := 0.0
	if lo > 0 {
		sigma = between()
	}
	defer func() {
		if finite(lo) {
			e.prevRadius, e.prevLower = delta, lo
		}
	}()
	res := secularResult{indefinite: e.minDiag < 0}
	factored := false // e.r holds the factor of M + σI
	for res.iters = 1; res.iters <= maxTolerantIters; res.iters++ {
		if !factored {
			res.chols++
			if k := e.cholesky(sigma); k < n {
				// M + σI is not positive definite: raise the lower bound.
				res.indefinite = res.indefinite || sigma <= 0
				lo = math.Max(lo, e.singularBound(sigma, k))
				sigma = between()
				continue
			}
		}
		factored = false
		e.solveFactored(p, g)
		pn := floats.Norm(p, 2)
		if sigma == 0 && pn <= delta {
			return res, true
		}
		// Newton's step on 1/Δ − 1/‖p(σ)‖: with w = R⁻ᵀp,
		// σ + (‖p‖/‖w‖)²(‖p‖ − Δ)/Δ.
		copy(e.w, p)
		e.solveRT(e.w)
		wn := floats.Norm(e.w, 2)
		next := sigma + (pn/wn)*(pn/wn)*(pn-delta)/delta
		if !finite(next) {
			// Under- or overflow in the norms: leave σ to the exact solve.
			return res, false
		}
		if pn >= delta {
			if pn-delta <= easy*delta {
				res.sigma, res.boundary, res.outside = sigma, true, true
				return res, true
			}
			lo = sigma
			sigma = next
			continue
		}
		// Inside: try p + τz on the boundary, z the estimated bottom
		// singular vector of R.
		s := e.estimate(e.z)
		neg, pos := boundaryRoots(pn*pn, floats.Dot(p, e.z), 1, delta)
		tau := pos
		if -neg < pos {
			tau = neg
		}
		rp := e.normRSquared(p) // pᵀ(M + σI)p
		if tau*tau*s*s <= hard*(rp+sigma*delta*delta) {
			floats.AddScaled(p, tau, e.z)
			res.sigma, res.boundary, res.hard = sigma, true, true
			return res, true
		}
		hi = sigma
		lo = math.Max(lo, sigma-s*s)
		res.chols++
		if e.cholesky(next) == n {
			sigma = next
			factored = true
		} else {
			lo = math.Max(lo, next)
			sigma = between()
		}
	}
	res.iters = maxTolerantIters
	return res, false
}

// cholesky factorises M + σI = RᵀR into e.r (upper triangle, row-major)
// and returns n, or the index k of the pivot at which it breaks down, with
// rows 0…k−1 of R computed and row k holding the Schur complement.
func (e *Exact) cholesky(sigma float64) int {
	n := e.a.SymmetricDim()
	raw := e.a.RawSymmetric()
	r := e.r
	for i := 0; i < n; i++ {
		copy(r[i*n+i:i*n+n], raw.Data[i*raw.Stride+i:i*raw.Stride+n])
		r[i*n+i] += sigma
	}
	for i := 0; i < n; i++ {
		d := r[i*n+i]
		if !(d > 0) {
			return i
		}
		d = math.Sqrt(d)
		row := r[i*n+i : i*n+n]
		row[0] = d
		floats.Scale(1/d, row[1:])
		// The Schur complement of the trailing block, row by row.
		for j := i + 1; j < n; j++ {
			if c := row[j-i]; c != 0 {
				floats.AddScaled(r[j*n+j:j*n+n], -c, row[j-i:])
			}
		}
	}
	return n
}

// singularBound returns Moré & Sorensen's lower bound on −λ₁ when the
// factorisation of M + σI broke down at pivot k: adding δ = −d_k (d_k
// the pivot) to entry (k, k) makes the leading (k+1)×(k+1) block
// singular with null vector v = (−R_{0:k}⁻¹r_k, 1, 0, …), r_k the part of
// column k above the diagonal, so vᵀ(M + σI)v = −δ and λ₁ + σ ≤ −δ/‖v‖².
func (e *Exact) singularBound(sigma float64, k int) float64 {
	n := e.a.SymmetricDim()
	r := e.r
	v := e.y[:k]
	// Back-substitute R_{0:k} v = −r_k.
	for i := k - 1; i >= 0; i-- {
		x := -r[i*n+k]
		for j := i + 1; j < k; j++ {
			x -= r[i*n+j] * v[j]
		}
		v[i] = x / r[i*n+i]
	}
	vv := 1 + floats.Dot(v, v)
	return sigma - r[k*n+k]/vv
}

// solveFactored stores −(RᵀR)⁻¹g in p.
func (e *Exact) solveFactored(p, g []float64) {
	floats.ScaleTo(p, -1, g)
	e.solveRT(p)
	e.solveR(p)
}

// solveRT overwrites x with R⁻ᵀx (forward substitution with Rᵀ, lower
// triangular).
func (e *Exact) solveRT(x []float64) {
	n := len(x)
	r := e.r
	for i := 0; i < n; i++ {
		x[i] /= r[i*n+i]
		if xi := x[i]; xi != 0 {
			floats.AddScaled(x[i+1:], -xi, r[i*n+i+1:i*n+n])
		}
	}
}

// solveR overwrites x with R⁻¹x (back substitution).
func (e *Exact) solveR(x []float64) {
	n := len(x)
	r := e.r
	for i := n - 1; i >= 0; i-- {
		x[i] = (x[i] - floats.Dot(r[i*n+i+1:i*n+n], x[i+1:])) / r[i*n+i]
	}
}

// normRSquared returns ‖Rx‖² = xᵀ(M + σI)x.
func (e *Exact) normRSquared(x []float64) float64 {
	n := len(x)
	r := e.r
	var s float64
	for i := 0; i < n; i++ {
		v := floats.Dot(r[i*n+i:i*n+n], x[i:])
		s += v * v
	}
	return s
}

// estimate returns an estimate of the smallest singular value of R and
// stores the corresponding unit right singular vector in z, by the
// estimator of Cline, Moler, Stewart & Wilkinson (1979) in the form of
// Golub & Van Loan (Alg. 3.5.1): solve Rᵀw = e with the signs e_k = ±1
// chosen one by one to make w large, looking ahead at the partial sums;
// then Rv = w, so that ‖w‖/‖v‖ ≈ s and v/‖v‖ ≈ z.
func (e *Exact) estimate(z []float64) float64 {
	n := len(z)
	r := e.r
	w := e.w
	sums := e.y // Σ_{i<k} R_ij w_i for j ≥ k
	clear(sums)
	for k := 0; k < n; k++ {
		d := r[k*n+k]
		wp := (1 - sums[k]) / d
		wm := (-1 - sums[k]) / d
		row := r[k*n+k+1 : k*n+n]
		rest := sums[k+1:]
		var gp, gm float64
		for j, c := range row {
			gp += math.Abs(rest[j] + c*wp)
			gm += math.Abs(rest[j] + c*wm)
		}
		wk := wm
		if math.Abs(wp)+gp >= math.Abs(wm)+gm {
			wk = wp
		}
		w[k] = wk
		floats.AddScaled(rest, wk, row)
	}
	copy(z, w)
	e.solveR(z)
	vn := floats.Norm(z, 2)
	s := floats.Norm(w, 2) / vn
	floats.Scale(1/vn, z)
	return s
}

// solveEigen solves the subproblem to rounding from the eigendecomposition
// of M (docs/secondorder.md), forming it once per matrix.
func (e *Exact) solveEigen(p, g []float64, delta float64) (secularResult, error) {
	n := len(g)
	var res secularResult
	if !e.eigValid {
		if !e.eig.Factorize(e.a, true) {
			return res, fmt.Errorf("secondorder: eigendecomposition of the curvature failed")
		}
		e.vals = e.eig.Values(resizeVec(e.vals, n))
		e.vecs.Reset()
		e.eig.VectorsTo(&e.vecs)
		e.eigValid = true
		res.chols = 1
	}
	e.gh = resizeVec(e.gh, n)
	mat.NewVecDense(n, e.gh).MulVec(e.vecs.T(), mat.NewVecDense(n, g))
	y := e.y
	var sec secularResult
	l1 := e.vals[0]
	if tiny := float64(n) * 0x1p-52 * e.inf; floats.Norm(g, 2) <= tiny {
		// g is zero to rounding: the step is 0 if M ⪰ 0 (to rounding),
		// else Δ along the bottom eigenvector with σ = −λ₁.
		clear(y)
		if l1 < -tiny {
			y[0] = delta
			sec = secularResult{sigma: -l1, hard: true, boundary: true}
		}
	} else {
		sec = solveSecular(y, e.vals, e.gh, delta)
	}
	sec.chols = res.chols
	sec.indefinite = l1 < 0
	mat.NewVecDense(n, p).MulVec(&e.vecs, mat.NewVecDense(n, y))
	return sec, nil
}

type secularResult struct {
	sigma          float64
	hard, boundary bool
	outside        bool // accepted by the easy test outside the sphere
	indefinite     bool // M was found not positive semidefinite
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
	res := secularResult{boundary: true}
	sigma, iters := secularRoot(func(sigma float64) (float64, float64, bool) {
		yn, qn := secularNorms(lam, gh, sigma)
		return yn, qn * qn, finite(yn)
	}, hi, lo, hi, delta, anorm)
	res.iters = iters
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
