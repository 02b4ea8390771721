package secondorder

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// Steihaug solves the trust-region subproblem by the Steihaug–Toint
// truncated conjugate-gradient method (Nocedal & Wright, Alg. 7.2; Conn,
// Gould & Toint, Alg. 7.5.1 for the preconditioned form). It needs only
// products with M, so it runs matrix-free.
//
// CG on Mp = −g starts from p = 0 and stops when
//   - a direction d with dᵀMd ≤ 0 appears: the step leaves along d to the
//     boundary, at whichever of the two crossings has the lower model value;
//   - an iterate would leave the region: the step stops where the segment
//     crosses the boundary;
//   - the residual is small: ‖r‖ ≤ ε‖g‖ with ε = Tol, or the forcing term
//     ε = min(1/2, √‖g‖) when Tol is 0 (which gives superlinear convergence
//     of the outer method).
//
// The first iterate is the Cauchy point and the model decreases along the
// iterates, so the step is never worse than Cauchy's. With a
// Preconditioner P, the iteration is CG preconditioned by P and the region
// is the ellipsoid ‖p‖_P = √(pᵀPp) ≤ Δ, whose norms are kept by the
// recurrences of Conn, Gould & Toint (7.5.5)–(7.5.7).
type Steihaug struct {
	// Preconditioner, if not nil, preconditions CG and defines the norm of
	// the trust region.
	Preconditioner Preconditioner
	// Tol is the relative residual at which CG stops. If Tol is 0, the
	// forcing term min(1/2, √‖g‖) is used. It must be in [0, 1).
	Tol float64
	// MaxIterations caps CG's iterations. If it is 0, it defaults to
	// max(50, 2n).
	MaxIterations int

	r, z, d, md []float64
}

// Validate checks the settings.
func (s *Steihaug) Validate() error {
	if !(s.Tol >= 0 && s.Tol < 1) {
		return badSetting("Steihaug.Tol", s.Tol, "must be in [0, 1)")
	}
	if s.MaxIterations < 0 {
		return badSetting("Steihaug.MaxIterations", float64(s.MaxIterations), "must not be negative")
	}
	return nil
}

// Solve stores the truncated-CG step in dst.
func (s *Steihaug) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius)
	if err != nil {
		return StepInfo{}, err
	}
	if err := s.Validate(); err != nil {
		return StepInfo{}, err
	}
	pre := s.Preconditioner
	if pre != nil && pre.Dim() != n {
		panic("secondorder: preconditioner dimension mismatch")
	}
	s.r = resizeVec(s.r, n)
	s.z = resizeVec(s.z, n)
	s.d = resizeVec(s.d, n)
	s.md = resizeVec(s.md, n)
	r, z, d, md := s.r, s.z, s.d, s.md
	p := dst
	clear(p)
	var info StepInfo

	gn := floats.Norm(g, 2)
	eps := s.Tol
	if eps == 0 {
		eps = math.Min(0.5, math.Sqrt(gn))
	}
	if gn == 0 {
		return info, nil
	}
	tol := eps * gn
	maxIter := s.MaxIterations
	if maxIter == 0 {
		maxIter = max(50, 2*n)
	}

	copy(r, g) // r = Mp + g
	applyPre(z, r, pre)
	rz := floats.Dot(r, z)
	if !(rz > 0) {
		return info, fmt.Errorf("secondorder: %w: preconditioner gave gᵀP⁻¹g = %v", curvature.ErrNotPositiveDefinite, rz)
	}
	floats.ScaleTo(d, -1, z)
	// ‖p‖², pᵀd and ‖d‖² in the constraint's norm (P-norm when
	// preconditioned, where Pd is never formed).
	pp, pd, dd := 0.0, 0.0, rz
	model := 0.0 // m(p)
	delta2 := radius * radius

	for k := 0; k < maxIter; k++ {
		m.MulVecTo(md, d)
		info.Products++
		dMd := floats.Dot(d, md)
		if !finite(dMd) {
			return info, fmt.Errorf("secondorder: %w: curvature product gave %v", curvature.ErrNonFinite, dMd)
		}
		rd := floats.Dot(r, d) // m(p + τd) = m(p) + τ rᵀd + ½τ² dᵀMd
		if dMd <= 0 {
			neg, pos := boundaryRoots(pp, pd, dd, radius)
			tau := pos
			if neg*rd+0.5*neg*neg*dMd < pos*rd+0.5*pos*pos*dMd {
				tau = neg
			}
			floats.AddScaled(p, tau, d)
			model += tau*rd + 0.5*tau*tau*dMd
			info.NegativeCurvature, info.Boundary = true, true
			return steihaugFinish(p, pre, radius, pp, model, info)
		}
		alpha := rz / dMd
		if next := pp + 2*alpha*pd + alpha*alpha*dd; next >= delta2 {
			_, tau := boundaryRoots(pp, pd, dd, radius)
			floats.AddScaled(p, tau, d)
			model += tau*rd + 0.5*tau*tau*dMd
			info.Boundary = true
			return steihaugFinish(p, pre, radius, pp, model, info)
		}
		floats.AddScaled(p, alpha, d)
		floats.AddScaled(r, alpha, md)
		model += alpha*rd + 0.5*alpha*alpha*dMd
		info.Iterations++
		if pre == nil {
			pp = floats.Dot(p, p)
		} else {
			pp += 2*alpha*pd + alpha*alpha*dd
		}
		if floats.Norm(r, 2) <= tol {
			break
		}
		applyPre(z, r, pre)
		rzNew := floats.Dot(r, z)
		if !(rzNew > 0) {
			if rzNew == 0 {
				break
			}
			return info, fmt.Errorf("secondorder: %w: preconditioner gave rᵀP⁻¹r = %v", curvature.ErrNotPositiveDefinite, rzNew)
		}
		beta := rzNew / rz
		rz = rzNew
		floats.Scale(beta, d)
		floats.Sub(d, z) // d ← −z + βd
		if pre == nil {
			pd = floats.Dot(p, d)
			dd = floats.Dot(d, d)
		} else {
			pd = beta * (pd + alpha*dd)
			dd = rz + beta*beta*dd
		}
	}
	return steihaugFinish(p, pre, radius, pp, model, info)
}

// steihaugFinish sets the norm and decrease of p and keeps a Euclidean step
// inside the ball against rounding. pp is ‖p‖²_P before a final boundary
// move.
func steihaugFinish(p []float64, pre Preconditioner, radius, pp, model float64, info StepInfo) (StepInfo, error) {
	info.Decrease = -model
	switch {
	case pre == nil:
		nrm := floats.Norm(p, 2)
		if nrm > radius {
			floats.Scale(radius/nrm, p)
			nrm = radius
		}
		info.Norm = nrm
	case info.Boundary:
		info.Norm = radius
	default:
		info.Norm = math.Sqrt(pp)
	}
	return info, checkStep(p, &info)
}
