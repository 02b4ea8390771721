package inverse

import (
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/pcg"
)

// CG is the operator v ↦ (M + λI)⁻¹v of a symmetric operator M, applied by
// preconditioned conjugate gradients (Hestenes & Stiefel 1952; Nocedal &
// Wright, Alg. 5.3) from x = 0. It needs M + λI positive definite — a
// GGN, a Fisher or an empirical Fisher with λ > 0, or a Hessian damped
// past its most negative eigenvalue — and stops when the relative
// residual ‖v − (M + λI)x‖/‖v‖ is at most Tol. Each iteration costs one
// product with M. A curvature direction dᵀ(M + λI)d ≤ 0 proves M + λI is
// not positive definite and ends the solve with an error wrapping
// curvature.ErrNotPositiveDefinite.
//
// A preconditioner P, a curvature.DampedSolver applied as (P + λI)⁻¹ with
// the same λ — any approximation of package approx (the diagonal, K-FAC)
// — cuts the iterations when P + λI is close to M + λI.
//
// The iteration is the one secondorder's solvers run (internal/pcg). A CG
// keeps its work vectors between solves and is not safe for concurrent
// use.
type CG struct {
	// Op is M.
	Op curvature.Operator
	// Damping is λ ≥ 0; zero means no damping.
	Damping float64
	// Tol is the relative residual at which the iteration stops. If it is
	// 0, it defaults to 1e-10; it must be in (0, 1).
	Tol float64
	// MaxIterations caps the iterations. If it is 0, it defaults to
	// max(50, 4n); reaching it above Tol is an error wrapping
	// ErrNotConverged.
	MaxIterations int
	// Preconditioner, if not nil, preconditions with (P + λI)⁻¹.
	Preconditioner curvature.DampedSolver

	it    pcg.Iteration
	stats Stats
}

// Dim returns the dimension of Op.
func (c *CG) Dim() int { return c.Op.Dim() }

// Stats returns what the last solve spent and reached.
func (c *CG) Stats() Stats { return c.stats }

// MulVecTo stores (M + λI)⁻¹v in dst. It panics with SolveTo's error when
// the solve fails; call SolveTo to receive it instead.
func (c *CG) MulVecTo(dst, v []float64) { mustSolve(c, dst, v) }

// SolveTo stores (M + λI)⁻¹v in dst. When the iteration stops at
// MaxIterations, dst holds the last iterate and the error wraps
// ErrNotConverged.
func (c *CG) SolveTo(dst, v []float64) error {
	c.stats = Stats{}
	n := c.Op.Dim()
	checkVecs("CG", dst, v, n)
	if c.Preconditioner != nil && c.Preconditioner.Dim() != n {
		panic(fmt.Sprintf("inverse: preconditioner dimension %d, operator dimension %d", c.Preconditioner.Dim(), n))
	}
	if err := checkDamping("CG.Damping", c.Damping, false); err != nil {
		return err
	}
	tol, err := tolerance("CG.Tol", c.Tol, 1e-10)
	if err != nil {
		return err
	}
	maxIter, err := limit("CG.MaxIterations", c.MaxIterations, max(50, 4*n))
	if err != nil {
		return err
	}
	if err := checkFinite("CG right-hand side", v); err != nil {
		return err
	}
	it := &c.it
	it.Prefix = "inverse"
	var pre pcg.Solver
	if c.Preconditioner != nil {
		pre = c.Preconditioner
	}
	it.Reset(c.Op, c.Damping, pre, c.Damping)
	defer func() { c.stats.Products = it.Products }()
	clear(dst)
	vn := floats.Norm(v, 2)
	if vn == 0 {
		return nil
	}
	copy(it.R, v)
	done, err := it.Begin()
	rn := vn
	for err == nil && !done && rn > tol*vn {
		if c.stats.Iterations == maxIter {
			c.stats.Residual = rn / vn
			return fmt.Errorf("%w: CG: relative residual %.3g after %d iterations, above Tol = %g", ErrNotConverged, rn/vn, maxIter, tol)
		}
		dAd := it.Product()
		if !finite(dAd) {
			return fmt.Errorf("inverse: CG: operator product gave dᵀAd = %v: %w", dAd, curvature.ErrNonFinite)
		}
		if dAd <= 0 {
			return fmt.Errorf("inverse: CG: %w: dᵀ(M + %gI)d = %.3g ≤ 0", curvature.ErrNotPositiveDefinite, c.Damping, dAd)
		}
		rn = it.Step(dst, it.RZ/dAd)
		c.stats.Iterations++
		done, err = it.Next()
	}
	if err != nil {
		return err
	}
	c.stats.Residual = rn / vn
	return checkFinite("CG solution", dst)
}
