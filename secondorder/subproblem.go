package secondorder

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// SubproblemSolver approximately solves the trust-region subproblem
//
//	minimise m(p) = gᵀp + ½ pᵀMp  subject to  ‖p‖ ≤ Δ.
type SubproblemSolver interface {
	// Solve stores the step p in dst and reports what it did. dst and g
	// have length m.Dim() and must not alias. Bad input (NaN in g, a
	// radius that is not positive and finite) returns an error.
	Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error)
}

// StepInfo describes a step p computed by a subproblem solver or a damped
// Newton solve, and what computing it cost.
type StepInfo struct {
	Norm     float64 // ‖p‖, or √(pᵀP̃p) for a preconditioned solver
	Decrease float64 // m(0) − m(p) = −gᵀp − ½pᵀMp, with the undamped M
	// Lambda is the multiplier: λ of (M + λI)p = −g for Exact, GLTR (on
	// its subspace) and damped Newton, Dogleg's shift of an indefinite M.
	Lambda            float64
	Boundary          bool // p is on the trust-region boundary
	NegativeCurvature bool // a direction with dᵀMd ≤ 0 was met
	HardCase          bool // Exact completed the step along an estimated eigenvector
	Fallback          bool // Dogleg returned the Cauchy point

	Products, Factorizations int // operator products, Cholesky and eigen factorisations
	Iterations               int // CG, Lanczos or secular-equation iterations
}

// warmSolver is a SubproblemSolver that solves again at the point of its
// last solve, with the same curvature and gradient and a smaller radius,
// from what it kept: TrustRegion calls it after rejecting a step.
type warmSolver interface {
	solveAgain(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error)
}

// checkSubproblem validates the arguments every solver shares, then the
// solver's settings s (nil for a solver without any).
func checkSubproblem(dst []float64, m curvature.Operator, g []float64, radius float64, s interface{ Validate() error }) (int, error) {
	n := m.Dim()
	if len(dst) != n || len(g) != n {
		panic(fmt.Sprintf("secondorder: step length %d, gradient length %d, operator dimension %d", len(dst), len(g), n))
	}
	if n == 0 {
		return 0, fmt.Errorf("secondorder: empty subproblem")
	}
	if !(radius > 0) || math.IsInf(radius, 1) {
		return n, badSetting("radius", radius, "must be positive and finite")
	}
	if err := nonFiniteVec("gradient", g); err != nil {
		return n, err
	}
	if s != nil {
		return n, s.Validate()
	}
	return n, nil
}

// checkTruncated checks the settings of the truncated Krylov solvers of the
// type named owner (Steihaug, GLTR): their two tolerances, named tol1 and
// tol2, in [0, 1), the iteration cap and the damping of the preconditioner.
func checkTruncated(owner, tol1 string, v1 float64, tol2 string, v2 float64, maxIter int, precondDamping float64) error {
	for _, t := range []struct {
		name string
		v    float64
	}{{tol1, v1}, {tol2, v2}} {
		if !(t.v >= 0 && t.v < 1) {
			return badSetting(owner+"."+t.name, t.v, "must be in [0, 1)")
		}
	}
	if maxIter < 0 {
		return badSetting(owner+".MaxIterations", float64(maxIter), "must not be negative")
	}
	if !(precondDamping >= 0) || math.IsInf(precondDamping, 1) {
		return badSetting(owner+".PreconditionerDamping", precondDamping, "must be finite and ≥ 0")
	}
	return nil
}

// checkStep rejects a step with non-finite entries, which overflowing or
// NaN curvature products produce.
func checkStep(p []float64, info *StepInfo) error {
	if err := nonFiniteVec("step", p); err != nil {
		return err
	}
	if !finite(info.Decrease) {
		return fmt.Errorf("secondorder: %w: predicted decrease is %v", curvature.ErrNonFinite, info.Decrease)
	}
	return nil
}

// predicted returns m(0) − m(p) = −gᵀp − ½pᵀMp, with mp the work space for
// Mp.
func predicted(mp []float64, m curvature.Operator, g, p []float64) float64 {
	m.MulVecTo(mp, p)
	return -floats.Dot(g, p) - 0.5*floats.Dot(p, mp)
}

// secularRoot finds σ in (lo, hi] with ‖y(σ)‖ = Δ, y(σ) = −(M + σI)⁻¹g,
// starting from sigma, by Newton's method on 1/Δ − 1/‖y(σ)‖ (Nocedal &
// Wright, Alg. 4.3) — monotone from the left of the root, and replaced by
// bisection where a step from the right overshoots out of the interval.
// norms returns ‖y(σ)‖ and yᵀ(M + σI)⁻¹y, or ok false where M + σI is not
// positive definite (the root lies above). σ is resolved to ε·max(σ, anorm),
// the accuracy of M + σI; it returns σ and the iterations.
func secularRoot(norms func(sigma float64) (yn, q float64, ok bool), sigma, lo, hi, delta, anorm float64) (float64, int) {
	const eps = 0x1p-52
	it := 1
	for ; it <= 300; it++ {
		yn, q, ok := norms(sigma)
		if !ok {
			lo = sigma
			sigma = lo + 0.5*(hi-lo)
			continue
		}
		if math.Abs(yn-delta) <= 1e-13*delta {
			break
		}
		if yn > delta {
			lo = sigma
		} else {
			hi = sigma
		}
		if hi-lo <= 4*eps*math.Max(hi, anorm) {
			return hi, it
		}
		next := sigma + (yn*yn/q)*(yn-delta)/delta
		if !(next > lo && next < hi) {
			next = lo + 0.5*(hi-lo)
		}
		sigma = next
	}
	return sigma, min(it, 300)
}

// boundaryRoots returns the roots τ₋ ≤ 0 ≤ τ₊ of ‖p + τd‖² = Δ² given
// pp = ‖p‖², pd = pᵀd, dd = ‖d‖² (in the constraint's norm) and ‖p‖ ≤ Δ.
// It uses the cancellation-free form of the quadratic formula.
func boundaryRoots(pp, pd, dd, delta float64) (neg, pos float64) {
	c := math.Min(pp-delta*delta, 0)
	disc := pd*pd - dd*c
	s := math.Sqrt(disc)
	var q float64
	if pd >= 0 {
		q = -(pd + s)
	} else {
		q = s - pd
	}
	if q == 0 {
		return 0, 0
	}
	r1, r2 := q/dd, c/q
	if r1 > r2 {
		r1, r2 = r2, r1
	}
	return r1, r2
}
