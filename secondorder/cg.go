package secondorder

import (
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// cg is the preconditioned conjugate-gradient iteration (Nocedal & Wright,
// Alg. 5.3) on A x = b with A = M + shift·I, preconditioned by
// (P + preShift·I)⁻¹ for a curvature.DampedSolver P. The linear solver,
// Steihaug–Toint and Hessian-free all run on it. It holds the residual
// r = b − Ax, the preconditioned residual z, the direction d and Ad, and
// leaves the loop to its caller, which adds its own exits (non-positive
// curvature, the trust-region boundary, Martens' progress rule) between
// the steps:
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
	op       curvature.Operator
	shift    float64
	pre      curvature.DampedSolver
	preShift float64

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
	n := m.Dim()
	if pre != nil && pre.Dim() != n {
		panic(fmt.Sprintf("secondorder: preconditioner dimension %d, operator dimension %d", pre.Dim(), n))
	}
	c.op, c.shift, c.pre, c.preShift = m, shift, pre, preShift
	c.r = resizeVec(c.r, n)
	c.z = resizeVec(c.z, n)
	c.d = resizeVec(c.d, n)
	c.ad = resizeVec(c.ad, n)
	c.rz, c.beta, c.products = 0, 0, 0
}

// mul stores A·v in dst.
func (c *cg) mul(dst, v []float64) {
	c.op.MulVecTo(dst, v)
	c.products++
	if c.shift != 0 {
		floats.AddScaled(dst, c.shift, v)
	}
}

// begin starts from the residual in c.r: z = P̃⁻¹r and d = z. It reports
// done when r is zero, as then the starting point solves the system. A
// preconditioner that gives rᵀz ≤ 0 is not positive definite.
func (c *cg) begin() (done bool, err error) {
	if floats.Norm(c.r, 2) == 0 {
		return true, nil
	}
	if err := c.precondition(); err != nil {
		return false, err
	}
	if !(c.rz > 0) {
		return false, fmt.Errorf("secondorder: %w: preconditioner gave rᵀP⁻¹r = %v", curvature.ErrNotPositiveDefinite, c.rz)
	}
	copy(c.d, c.z)
	return false, nil
}

// product stores A·d in ad and returns dᵀAd.
func (c *cg) product() float64 {
	c.mul(c.ad, c.d)
	return floats.Dot(c.d, c.ad)
}

// step moves x to x + αd, updates r to r − αAd and returns ‖r‖₂.
func (c *cg) step(x []float64, alpha float64) float64 {
	floats.AddScaled(x, alpha, c.d)
	floats.AddScaled(c.r, -alpha, c.ad)
	return floats.Norm(c.r, 2)
}

// next preconditions the new residual and turns the direction:
// z = P̃⁻¹r, β = rᵀz/(r₋ᵀz₋), d = z + βd. It reports done when rᵀz = 0,
// which for a positive definite preconditioner means r = 0.
func (c *cg) next() (done bool, err error) {
	rzOld := c.rz
	if err := c.precondition(); err != nil {
		return false, err
	}
	if !(c.rz > 0) {
		if c.rz == 0 {
			return true, nil
		}
		return false, fmt.Errorf("secondorder: %w: preconditioner gave rᵀP⁻¹r = %v", curvature.ErrNotPositiveDefinite, c.rz)
	}
	c.beta = c.rz / rzOld
	floats.AddScaledTo(c.d, c.z, c.beta, c.d)
	return false, nil
}

// precondition stores P̃⁻¹r in z, or r without a preconditioner, and rᵀz
// in rz.
func (c *cg) precondition() error {
	if c.pre == nil {
		copy(c.z, c.r)
	} else if err := c.pre.SolveDampedTo(c.z, c.r, c.preShift); err != nil {
		return fmt.Errorf("secondorder: preconditioner: %w", err)
	}
	c.rz = floats.Dot(c.r, c.z)
	return nil
}

func resizeVec(v []float64, n int) []float64 {
	if cap(v) < n {
		return make([]float64, n)
	}
	return v[:n]
}
