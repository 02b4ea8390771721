package secondorder

import (
	"cmp"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// Steihaug solves the trust-region subproblem by the Steihaug–Toint
// truncated conjugate-gradient method (Nocedal & Wright, Alg. 7.2; Conn,
// Gould & Toint 2000, Alg. 7.5.1 preconditioned), from products with M
// alone. CG on Mp = −g from p = 0 stops at the boundary, following a
// direction of negative curvature there, or at ‖r‖ ≤ ε‖g‖, ε = Tol or
// min(Forcing, √‖g‖). With a Preconditioner P the region is the ellipsoid
// √(pᵀP̃p) ≤ Δ, P̃ = P + μI.
type Steihaug struct {
	Preconditioner        curvature.DampedSolver // if not nil, P, applied as (P + μI)⁻¹
	PreconditionerDamping float64                // μ ≥ 0; zero means zero
	Tol                   float64                // relative residual in [0, 1); 0: the forcing term
	Forcing               float64                // cap of the forcing term, in [0, 1); 0: 0.35
	MaxIterations         int                    // CG's iterations; 0: max(50, 2n)

	cg cg
}

// Validate checks the settings.
func (s *Steihaug) Validate() error {
	return checkTruncated("Steihaug", "Tol", s.Tol, "Forcing", s.Forcing, s.MaxIterations, s.PreconditionerDamping)
}

// Solve stores the truncated-CG step in dst.
func (s *Steihaug) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius, s)
	if err != nil {
		return StepInfo{}, err
	}
	pre := s.Preconditioner
	c := &s.cg
	c.reset(m, 0, pre, s.PreconditionerDamping)
	p := dst
	clear(p)
	var info StepInfo

	gn := floats.Norm(g, 2)
	eps := s.Tol
	if eps == 0 {
		c := cmp.Or(s.Forcing, 0.35)
		eps = math.Min(c, math.Sqrt(gn))
	}
	tol := eps * gn
	maxIter := cmp.Or(s.MaxIterations, max(50, 2*n))

	// CG on Mp = −g: the core's residual r = −g − Mp is minus the model's
	// gradient Mp + g, and its direction d is the descent direction of
	// Conn, Gould & Toint.
	floats.ScaleTo(c.r, -1, g)
	done, err := c.begin()
	if done || err != nil {
		return info, err
	}
	// ‖p‖², pᵀd and ‖d‖² in the constraint's norm (the P̃-norm when
	// preconditioned, where P̃d is never formed).
	pp, pd, dd := 0.0, 0.0, c.rz
	model := 0.0 // m(p)
	delta2 := radius * radius

	for k := 0; k < maxIter; k++ {
		dMd := c.product()
		info.Products++
		if !finite(dMd) {
			return info, fmt.Errorf("secondorder: %w: curvature product gave %v", curvature.ErrNonFinite, dMd)
		}
		rd := -floats.Dot(c.r, c.d) // m(p + τd) = m(p) + τ rd + ½τ² dᵀMd
		if dMd <= 0 {
			neg, pos := boundaryRoots(pp, pd, dd, radius)
			tau := pos
			if neg*rd+0.5*neg*neg*dMd < pos*rd+0.5*pos*pos*dMd {
				tau = neg
			}
			floats.AddScaled(p, tau, c.d)
			model += tau*rd + 0.5*tau*tau*dMd
			info.NegativeCurvature, info.Boundary = true, true
			return steihaugFinish(p, pre, radius, pp, model, info)
		}
		alpha := c.rz / dMd
		if next := pp + 2*alpha*pd + alpha*alpha*dd; next >= delta2 {
			_, tau := boundaryRoots(pp, pd, dd, radius)
			floats.AddScaled(p, tau, c.d)
			model += tau*rd + 0.5*tau*tau*dMd
			info.Boundary = true
			return steihaugFinish(p, pre, radius, pp, model, info)
		}
		rn := c.step(p, alpha)
		model += alpha*rd + 0.5*alpha*alpha*dMd
		info.Iterations++
		if pre == nil {
			pp = floats.Dot(p, p)
		} else {
			pp += 2*alpha*pd + alpha*alpha*dd
		}
		if rn <= tol {
			break
		}
		if done, err := c.next(); err != nil {
			return info, err
		} else if done {
			break
		}
		if pre == nil {
			pd = floats.Dot(p, c.d)
			dd = floats.Dot(c.d, c.d)
		} else {
			pd = c.beta * (pd + alpha*dd)
			dd = c.rz + c.beta*c.beta*dd
		}
	}
	return steihaugFinish(p, pre, radius, pp, model, info)
}

// steihaugFinish sets the norm and decrease of p and keeps a Euclidean step
// inside the ball against rounding. pp is ‖p‖²_P̃ before a final boundary
// move.
func steihaugFinish(p []float64, pre curvature.DampedSolver, radius, pp, model float64, info StepInfo) (StepInfo, error) {
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
