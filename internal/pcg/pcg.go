package pcg

import (
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/internal/numerr"
)

// Operator is a symmetric linear map known through its products (what
// curvature.Operator is; restated here so that curvature need not be
// imported).
type Operator interface {
	Dim() int
	MulVecTo(dst, v []float64)
}

// Solver applies (P + λI)⁻¹ (what curvature.DampedSolver is).
type Solver interface {
	Dim() int
	SolveDampedTo(dst, v []float64, lambda float64) error
}

// Iteration is the preconditioned conjugate-gradient iteration (Nocedal &
// Wright, Alg. 5.3) on A x = b with A = M + Shift·I, preconditioned by
// (P + PreShift·I)⁻¹ for a Solver P. It holds the residual R = b − Ax, the
// preconditioned residual Z, the direction D and AD = A·D, and leaves the
// loop to its caller, which adds its own exits (non-positive curvature, a
// trust-region boundary, a progress rule) between the steps:
//
//	it.Reset(m, λ, pre, μ)
//	copy(it.R, b)              // or b − Ax for a warm start x
//	done, err := it.Begin()    // Z = P̃⁻¹R, D = Z
//	for !done && err == nil {
//		dAd := it.Product()    // AD, Dᵀ·AD
//		…                      // exits on dAd
//		it.Step(x, it.RZ/dAd)  // x += αD, R −= α·AD; returns ‖R‖
//		…                      // exits on ‖R‖
//		done, err = it.Next()  // Z = P̃⁻¹R, β, D = Z + βD
//	}
//
// Its vectors are reused from call to call, so the iteration allocates
// nothing once warmed up.
type Iteration struct {
	// Prefix starts every error message and panic ("secondorder",
	// "inverse"), naming the package the caller sees.
	Prefix string

	M        Operator
	Shift    float64
	Pre      Solver
	PreShift float64

	R, Z, D, AD []float64
	// RZ is RᵀZ for the current residual and Beta the β of the last
	// direction update.
	RZ, Beta float64
	// Products counts products with M since Reset.
	Products int
}

// Reset prepares an iteration with the operator m and the preconditioner
// pre (nil for none).
func (it *Iteration) Reset(m Operator, shift float64, pre Solver, preShift float64) {
	n := m.Dim()
	if pre != nil && pre.Dim() != n {
		panic(fmt.Sprintf("%s: preconditioner dimension %d, operator dimension %d", it.Prefix, pre.Dim(), n))
	}
	it.M, it.Shift, it.Pre, it.PreShift = m, shift, pre, preShift
	it.R = Resize(it.R, n)
	it.Z = Resize(it.Z, n)
	it.D = Resize(it.D, n)
	it.AD = Resize(it.AD, n)
	it.RZ, it.Beta, it.Products = 0, 0, 0
}

// Mul stores A·v in dst.
func (it *Iteration) Mul(dst, v []float64) {
	it.M.MulVecTo(dst, v)
	it.Products++
	if it.Shift != 0 {
		floats.AddScaled(dst, it.Shift, v)
	}
}

// Begin starts from the residual in R: Z = P̃⁻¹R and D = Z. It reports
// done when R is zero, as then the starting point solves the system. A
// preconditioner that gives RᵀZ ≤ 0 is not positive definite.
func (it *Iteration) Begin() (done bool, err error) {
	if floats.Norm(it.R, 2) == 0 {
		return true, nil
	}
	if err := it.precondition(); err != nil {
		return false, err
	}
	if !(it.RZ > 0) {
		return false, it.notPD()
	}
	copy(it.D, it.Z)
	return false, nil
}

// Product stores A·D in AD and returns DᵀAD.
func (it *Iteration) Product() float64 {
	it.Mul(it.AD, it.D)
	return floats.Dot(it.D, it.AD)
}

// Step moves x to x + αD, updates R to R − α·AD and returns ‖R‖₂.
func (it *Iteration) Step(x []float64, alpha float64) float64 {
	floats.AddScaled(x, alpha, it.D)
	floats.AddScaled(it.R, -alpha, it.AD)
	return floats.Norm(it.R, 2)
}

// Next preconditions the new residual and turns the direction:
// Z = P̃⁻¹R, β = RᵀZ/(R₋ᵀZ₋), D = Z + βD. It reports done when RᵀZ = 0,
// which for a positive definite preconditioner means R = 0.
func (it *Iteration) Next() (done bool, err error) {
	rzOld := it.RZ
	if err := it.precondition(); err != nil {
		return false, err
	}
	if !(it.RZ > 0) {
		if it.RZ == 0 {
			return true, nil
		}
		return false, it.notPD()
	}
	it.Beta = it.RZ / rzOld
	floats.AddScaledTo(it.D, it.Z, it.Beta, it.D)
	return false, nil
}

func (it *Iteration) notPD() error {
	return fmt.Errorf("%s: %w: preconditioner gave rᵀP⁻¹r = %v", it.Prefix, numerr.NotPositiveDefinite, it.RZ)
}

// precondition stores P̃⁻¹R in Z, or R without a preconditioner, and RᵀZ
// in RZ.
func (it *Iteration) precondition() error {
	if it.Pre == nil {
		copy(it.Z, it.R)
	} else if err := it.Pre.SolveDampedTo(it.Z, it.R, it.PreShift); err != nil {
		return fmt.Errorf("%s: preconditioner: %w", it.Prefix, err)
	}
	it.RZ = floats.Dot(it.R, it.Z)
	return nil
}

// Resize returns v with length n, reusing its storage when it can.
func Resize(v []float64, n int) []float64 {
	if cap(v) < n {
		return make([]float64, n)
	}
	return v[:n]
}
