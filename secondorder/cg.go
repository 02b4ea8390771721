package secondorder

import (
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/pcg"
)

// cg is the preconditioned conjugate-gradient iteration (Nocedal & Wright,
// Alg. 5.3) on A x = b with A = M + shift·I, preconditioned by
// (P + preShift·I)⁻¹ for a curvature.DampedSolver P. The linear solver,
// Steihaug–Toint and Hessian-free all run on it. The iteration itself is
// internal/pcg's, which curvature/inverse shares; cg names its state as
// this package's solvers read it: the residual r = b − Ax, the
// preconditioned residual z, the direction d and Ad (the same storage as
// the core's), and rz, beta and products, copied from the core after
// every call. It leaves the loop to its caller, which adds its own exits
// (non-positive curvature, the trust-region boundary, Martens' progress
// rule) between the steps:
//
//	c.reset(m, λ, pre, μ)
//	copy(c.r, b)             // or b − Ax for a warm start x
//	done, err := c.begin()   // z = P̃⁻¹r, d = z
//	for !done && err == nil {
//		dAd := c.product()   // Ad, dᵀAd
//		…                    // exits on dAd
//		c.step(x, c.rz/dAd)  // x += αd, r −= αAd; returns ‖r‖
//		…                    // exits on ‖r‖
//		done, err = c.next() // z = P̃⁻¹r, β, d = z + βd
//	}
//
// Its vectors are reused from call to call, so the iteration allocates
// nothing.
type cg struct {
	it pcg.Iteration

	r, z, d, ad []float64
	// rz is rᵀz for the current residual and beta the β of the last
	// direction update.
	rz, beta float64
	// products counts products with M since reset.
	products int
}

// reset prepares an iteration with the operator m and the preconditioner
// pre (nil for none).
func (c *cg) reset(m curvature.Operator, shift float64, pre curvature.DampedSolver, preShift float64) {
	c.it.Prefix = "secondorder"
	var p pcg.Solver
	if pre != nil {
		p = pre
	}
	c.it.Reset(m, shift, p, preShift)
	c.r, c.z, c.d, c.ad = c.it.R, c.it.Z, c.it.D, c.it.AD
	c.sync()
}

// sync copies the core's scalars.
func (c *cg) sync() { c.rz, c.beta, c.products = c.it.RZ, c.it.Beta, c.it.Products }

// mul stores A·v in dst.
func (c *cg) mul(dst, v []float64) {
	c.it.Mul(dst, v)
	c.sync()
}

// begin starts from the residual in c.r: z = P̃⁻¹r and d = z. It reports
// done when r is zero, as then the starting point solves the system. A
// preconditioner that gives rᵀz ≤ 0 is not positive definite.
func (c *cg) begin() (done bool, err error) {
	done, err = c.it.Begin()
	c.sync()
	return done, err
}

// product stores A·d in ad and returns dᵀAd.
func (c *cg) product() float64 {
	dAd := c.it.Product()
	c.sync()
	return dAd
}

// step moves x to x + αd, updates r to r − αAd and returns ‖r‖₂.
func (c *cg) step(x []float64, alpha float64) float64 { return c.it.Step(x, alpha) }

// next preconditions the new residual and turns the direction:
// z = P̃⁻¹r, β = rᵀz/(r₋ᵀz₋), d = z + βd. It reports done when rᵀz = 0,
// which for a positive definite preconditioner means r = 0.
func (c *cg) next() (done bool, err error) {
	done, err = c.it.Next()
	c.sync()
	return done, err
}

func resizeVec(v []float64, n int) []float64 { return pcg.Resize(v, n) }
