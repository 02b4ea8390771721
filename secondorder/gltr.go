package secondorder

import (
	"cmp"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

var (
	_ SubproblemSolver = (*GLTR)(nil)
	_ warmSolver       = (*GLTR)(nil)
)

// GLTR solves the trust-region subproblem by the generalized Lanczos
// method of Gould et al. (1999), SciPy's trust-krylov: from products with
// M alone, it minimises the model over the Krylov subspaces
// span{g, Mg, …, Mᵏg} of growing k, so that a step on the boundary keeps
// improving where Steihaug stops. Each subspace problem, tridiagonal, is
// solved to rounding; the iteration stops when the Lagrangian's gradient
// ‖(M + σI)p + g‖ is at most InteriorTol·‖g‖ inside the region or
// BoundaryTol·‖g‖ on its boundary. After a rejected step TrustRegion
// re-solves from the kept subspace, repeating no products (trlib's hot start).
type GLTR struct {
	Preconditioner        curvature.DampedSolver // if not nil, P, applied as (P + μI)⁻¹, as for Steihaug
	PreconditionerDamping float64                // μ ≥ 0; zero means zero
	InteriorTol           float64                // an interior step's relative residual, in [0, 1); 0: min(1/2, ‖g‖)
	BoundaryTol           float64                // a boundary step's, in [0, 1); 0: max(10⁻⁶, min(1/2, √‖g‖))
	MaxIterations         int                    // Lanczos iterations; 0: n
	// Budget caps the floats of the Lanczos basis kept (n per vector, 2n
	// preconditioned); 0: curvature.DefaultBudget, < 0: no limit.
	Budget int

	n          int
	q, w       []float64 // the basis, vector j at [j*n : (j+1)*n]; w = P̃q
	diag, off  []float64 // T_k: diag[j], off[j] couples j−1 and j (off[0] unused)
	k          int       // the basis has k vectors
	gamma0     float64   // ‖g‖ in the P̃⁻¹ norm
	next       []float64 // the unnormalised next Lanczos vector (t), P̃-norm off[k]
	nextY      []float64 // P̃⁻¹t
	invariant  bool      // the subspace is invariant
	tr         triTRS
	mp         []float64
	warm       bool // the state belongs to the last solve
	maxIter    int
	tolI, tolB float64
}

// Validate checks the settings.
func (gl *GLTR) Validate() error {
	return checkTruncated("GLTR", "InteriorTol", gl.InteriorTol, "BoundaryTol", gl.BoundaryTol, gl.MaxIterations, gl.PreconditionerDamping)
}

// Solve stores the GLTR step in dst.
func (gl *GLTR) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	if _, err := checkSubproblem(dst, m, g, radius, gl); err != nil {
		return StepInfo{}, err
	}
	gl.warm = false
	info, err := gl.start(m, g)
	if err != nil || gl.gamma0 == 0 {
		clear(dst)
		return info, err
	}
	return gl.solve(dst, m, g, radius, info)
}

// solveAgain re-solves after a rejected step, with the same m and g and a
// smaller radius, from the kept subspace (see GLTR).
func (gl *GLTR) solveAgain(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	if !gl.warm || gl.n != len(g) {
		return gl.Solve(dst, m, g, radius)
	}
	if _, err := checkSubproblem(dst, m, g, radius, nil); err != nil {
		return StepInfo{}, err
	}
	if gl.gamma0 == 0 {
		clear(dst)
		return StepInfo{}, nil
	}
	return gl.solve(dst, m, g, radius, StepInfo{})
}

// start begins the Lanczos process at g.
func (gl *GLTR) start(m curvature.Operator, g []float64) (StepInfo, error) {
	n := len(g)
	if pre := gl.Preconditioner; pre != nil && pre.Dim() != n {
		panic(fmt.Sprintf("secondorder: preconditioner dimension %d, operator dimension %d", pre.Dim(), n))
	}
	gl.n = n
	gl.k = 0
	gl.invariant = false
	gl.next = resizeVec(gl.next, n)
	gl.nextY = resizeVec(gl.nextY, n)
	gl.mp = resizeVec(gl.mp, n)
	copy(gl.next, g)
	gamma, err := gl.precondition()
	if err != nil {
		return StepInfo{}, err
	}
	gl.gamma0 = gamma
	gl.diag = gl.diag[:0]
	gl.off = append(gl.off[:0], 0)
	gl.maxIter = gl.MaxIterations
	gl.maxIter = cmp.Or(gl.maxIter, n)
	per := n
	if gl.Preconditioner != nil {
		per = 2 * n
	}
	switch budget := gl.Budget; {
	case budget == 0:
		gl.maxIter = min(gl.maxIter, max(1, curvature.DefaultBudget/per))
	case budget > 0:
		gl.maxIter = min(gl.maxIter, max(1, budget/per))
	}
	gl.tolI, gl.tolB = gl.InteriorTol, gl.BoundaryTol
	gl.tolI = cmp.Or(gl.tolI, math.Min(0.5, gamma))
	gl.tolB = cmp.Or(gl.tolB, math.Max(1e-6, math.Min(0.5, math.Sqrt(gamma))))
	gl.tolI *= gamma
	gl.tolB *= gamma
	gl.warm = true
	return StepInfo{}, nil
}

// precondition stores P̃⁻¹t in nextY for t = next and returns √(tᵀP̃⁻¹t).
func (gl *GLTR) precondition() (float64, error) {
	if gl.Preconditioner == nil {
		copy(gl.nextY, gl.next)
		return floats.Norm(gl.next, 2), nil
	}
	if err := gl.Preconditioner.SolveDampedTo(gl.nextY, gl.next, gl.PreconditionerDamping); err != nil {
		return 0, fmt.Errorf("secondorder: preconditioner: %w", err)
	}
	tz := floats.Dot(gl.next, gl.nextY)
	if !(tz > 0) && !(tz == 0 && floats.Norm(gl.next, math.Inf(1)) == 0) {
		return 0, fmt.Errorf("secondorder: %w: preconditioner gave rᵀP⁻¹r = %v", curvature.ErrNotPositiveDefinite, tz)
	}
	return math.Sqrt(tz), nil
}

// extend adds one Lanczos vector and its row of T_k, with one product.
func (gl *GLTR) extend(m curvature.Operator) error {
	n, k := gl.n, gl.k
	gamma := gl.off[k] // the P̃-norm of next (γ₀ for k = 0)
	if k == 0 {
		gamma = gl.gamma0
	}
	// q_k = P̃⁻¹t/γ, w_k = t/γ.
	gl.q = growVec(gl.q, (k+1)*n)
	qk := gl.q[k*n : (k+1)*n]
	floats.ScaleTo(qk, 1/gamma, gl.nextY)
	wk := qk
	if gl.Preconditioner != nil {
		gl.w = growVec(gl.w, (k+1)*n)
		wk = gl.w[k*n : (k+1)*n]
		floats.ScaleTo(wk, 1/gamma, gl.next)
	}
	gl.k++
	t := gl.next
	m.MulVecTo(t, qk)
	delta := floats.Dot(qk, t)
	if !finite(delta) {
		return fmt.Errorf("secondorder: %w: curvature product gave %v", curvature.ErrNonFinite, delta)
	}
	gl.diag = append(gl.diag, delta)
	// Reorthogonalise t against every kept vector (in the P̃ inner
	// product: t −= (tᵀq_j) w_j), twice, which also removes the δq_k and
	// γq_{k−1} terms of the three-term recurrence.
	for pass := 0; pass < 2; pass++ {
		for j := 0; j <= k; j++ {
			qj := gl.q[j*n : (j+1)*n]
			wj := qj
			if gl.Preconditioner != nil {
				wj = gl.w[j*n : (j+1)*n]
			}
			floats.AddScaled(t, -floats.Dot(t, qj), wj)
		}
	}
	next, err := gl.precondition()
	if err != nil {
		return err
	}
	gl.off = append(gl.off, next)
	// The subspace is invariant when the new direction is rounding noise
	// relative to the product.
	if next <= 16*0x1p-52*(math.Abs(delta)+gamma+next) || gl.k == gl.n {
		gl.invariant = true
	}
	return nil
}

// solve minimises the model on growing subspaces until the residual test
// passes, storing p in dst.
func (gl *GLTR) solve(dst []float64, m curvature.Operator, g []float64, radius float64, info StepInfo) (StepInfo, error) {
	if gl.k == 0 {
		if err := gl.extend(m); err != nil {
			return info, err
		}
		info.Products++
		info.Iterations++
	}
	var res triResult
	for {
		res = gl.tr.solve(gl.diag, gl.off[:gl.k], gl.gamma0, radius)
		if gl.converged(res) || gl.invariant || gl.k >= gl.maxIter {
			break
		}
		if err := gl.extend(m); err != nil {
			return info, err
		}
		info.Products++
		info.Iterations++
	}
	// p = Q_k h.
	n, k := gl.n, gl.k
	clear(dst)
	for j := 0; j < k; j++ {
		floats.AddScaled(dst, gl.tr.h[j], gl.q[j*n:(j+1)*n])
	}
	info.Lambda = res.sigma
	info.Boundary = res.boundary
	info.NegativeCurvature = !res.positive
	info.Norm = floats.Norm(gl.tr.h[:k], 2)
	if gl.Preconditioner == nil {
		info.Norm = floats.Norm(dst, 2)
	}
	if info.Boundary && info.Norm > radius {
		// On the sphere, off it by rounding.
		floats.Scale(radius/info.Norm, dst)
		info.Norm = radius
	}
	info.Decrease = predicted(gl.mp, m, g, dst)
	info.Products++
	return info, checkStep(dst, &info)
}

// converged applies the residual test to the tridiagonal solution res:
// ‖(M + σP̃)p + g‖_{P̃⁻¹} = γ_{k+1}|h_k|.
func (gl *GLTR) converged(res triResult) bool {
	r := gl.off[gl.k] * math.Abs(res.h[gl.k-1])
	if res.boundary {
		return r <= gl.tolB
	}
	return r <= gl.tolI
}

// growVec returns v with length n, keeping its contents.
func growVec(v []float64, n int) []float64 {
	if cap(v) >= n {
		return v[:n]
	}
	w := make([]float64, n, max(n, 2*cap(v)))
	copy(w, v)
	return w
}

// triTRS solves the trust-region subproblem for a symmetric tridiagonal
// T, min γ₀h₀ + ½hᵀTh over ‖h‖ ≤ Δ, to rounding, keeping its storage.
type triTRS struct {
	h, piv, u, v []float64
	sigma        float64 // the multiplier of the last solve, a warm start
}

// triResult is a tridiagonal solve's outcome; h aliases triTRS.h.
type triResult struct {
	h        []float64
	sigma    float64
	boundary bool
	positive bool // T is positive definite
}

// factor computes the pivots of the LDLᵀ factorisation of T + σI into
// t.piv and returns how many are not positive (by Sylvester's law of
// inertia, the number of eigenvalues of T at most −σ).
func (t *triTRS) factor(d, e []float64, sigma float64) int {
	neg := 0
	for i := range d {
		p := d[i] + sigma
		if i > 0 {
			p -= e[i] * e[i] / t.piv[i-1]
		}
		if p == 0 {
			p = -0x1p-1022 // a zero pivot counts as non-positive
		}
		t.piv[i] = p
		if p <= 0 {
			neg++
		}
	}
	return neg
}

// step solves (T + σI)h = −γ₀e₁ with the pivots of factor and returns
// ‖h‖ and hᵀ(T + σI)⁻¹h.
func (t *triTRS) step(e []float64, g0 float64) (hn, q float64) {
	k := len(t.piv)
	h, u := t.h[:k], t.u[:k]
	// L y = −γ₀e₁, then D z = y, then Lᵀh = z, with L's subdiagonal
	// e_i/piv_{i−1}.
	y := -g0
	h[0] = y
	for i := 1; i < k; i++ {
		y = -e[i] / t.piv[i-1] * y
		h[i] = y
	}
	for i := 0; i < k; i++ {
		h[i] /= t.piv[i]
	}
	for i := k - 2; i >= 0; i-- {
		h[i] -= e[i+1] / t.piv[i] * h[i+1]
	}
	// hᵀ(LDLᵀ)⁻¹h = Σ (L⁻¹h)_i²/piv_i.
	u[0] = h[0]
	for i := 1; i < k; i++ {
		u[i] = h[i] - e[i]/t.piv[i-1]*u[i-1]
	}
	for i := 0; i < k; i++ {
		q += u[i] * u[i] / t.piv[i]
	}
	return floats.Norm(h, 2), q
}

// bottom returns λ_min(T) by Sturm bisection to rounding.
func (t *triTRS) bottom(d, e []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range d {
		r := 0.0
		if i > 0 {
			r += math.Abs(e[i])
		}
		if i+1 < len(d) {
			r += math.Abs(e[i+1])
		}
		lo = math.Min(lo, d[i]-r)
		hi = math.Max(hi, d[i]+r)
	}
	scale := math.Max(math.Abs(lo), math.Abs(hi))
	for it := 0; it < 200 && hi-lo > 4*0x1p-52*scale; it++ {
		mid := lo + 0.5*(hi-lo)
		if t.factor(d, e, -mid) > 0 {
			hi = mid // an eigenvalue at most mid
		} else {
			lo = mid
		}
	}
	return lo
}

// solve minimises γ₀h₀ + ½hᵀTh over ‖h‖ ≤ Δ for T with diagonal d and
// off-diagonal e (e[i] couples i−1 and i).
func (t *triTRS) solve(d, e []float64, g0, delta float64) triResult {
	k := len(d)
	t.h = resizeVec(t.h, k)
	t.piv = resizeVec(t.piv, k)
	t.u = resizeVec(t.u, k)
	res := triResult{h: t.h[:k]}
	if t.factor(d, e, 0) == 0 {
		res.positive = true
		if hn, _ := t.step(e, g0); hn <= delta {
			t.sigma = 0
			return res
		}
	}
	res.boundary = true
	l1 := t.bottom(d, e)
	lo := math.Max(0, -l1)
	hi := lo + g0/delta
	anorm := 0.0
	for i := range d {
		anorm = math.Max(anorm, math.Abs(d[i])+math.Abs(e[i]))
	}
	hi += 4 * 0x1p-52 * math.Max(hi, anorm) // ‖h(hi)‖ ≤ Δ despite rounding
	sigma := hi
	if t.sigma > lo && t.sigma < hi {
		sigma = t.sigma
	}
	sigma, _ = secularRoot(func(sigma float64) (float64, float64, bool) {
		if t.factor(d, e, sigma) > 0 {
			return 0, 0, false
		}
		hn, q := t.step(e, g0)
		return hn, q, true
	}, sigma, lo, hi, delta, anorm)
	t.factor(d, e, sigma)
	hn, _ := t.step(e, g0)
	t.sigma = sigma
	res.sigma = sigma
	if hn < delta*(1-1e-10) && l1 < 0 {
		// σ sits at −λ₁ to rounding (the hard case of the subspace): reach
		// the boundary along the bottom eigenvector of T.
		v := t.u[:k]
		t.eigvec(d, e, l1, v)
		neg, pos := boundaryRoots(hn*hn, floats.Dot(res.h, v), 1, delta)
		tau := pos
		if -neg < pos {
			tau = neg
		}
		floats.AddScaled(res.h, tau, v)
	} else if hn > 0 {
		floats.Scale(delta/hn, res.h)
	}
	return res
}

// eigvec stores in v the unit eigenvector of T for the eigenvalue l1 by
// inverse iteration with a slightly perturbed shift.
func (t *triTRS) eigvec(d, e []float64, l1 float64, v []float64) {
	k := len(d)
	anorm := 0.0
	for i := range d {
		anorm = math.Max(anorm, math.Abs(d[i])+math.Abs(e[i]))
	}
	shift := -l1 + 1e-10*math.Max(anorm, 1e-300) // T + shift·I ≻ 0, nearly singular
	t.factor(d, e, shift)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(k))
	}
	t.v = resizeVec(t.v, k)
	h := t.v
	for it := 0; it < 3; it++ {
		// Solve (T + shift·I)x = v with the LDLᵀ pivots.
		copy(h, v)
		for i := 1; i < k; i++ {
			h[i] -= e[i] / t.piv[i-1] * h[i-1]
		}
		for i := 0; i < k; i++ {
			h[i] /= t.piv[i]
		}
		for i := k - 2; i >= 0; i-- {
			h[i] -= e[i+1] / t.piv[i] * h[i+1]
		}
		nrm := floats.Norm(h, 2)
		floats.ScaleTo(v, 1/nrm, h)
	}
}
