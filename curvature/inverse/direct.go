package inverse

import "github.com/curvkit/curvkit/curvature"

// Direct is the operator v ↦ (P + λI)⁻¹v of a curvature.DampedSolver P,
// applied through P's own structure rather than by iteration: the exact
// damped inverse of every approximation of package approx (a K-FAC with
// FactoredDamping inverts the matrix it documents instead). Its first
// solve caches P's factorisations.
type Direct struct {
	// P is the structured matrix.
	P curvature.DampedSolver
	// Damping is λ ≥ 0; zero means no damping.
	Damping float64
}

var _ Solver = Direct{}

// Dim returns the dimension of P.
func (d Direct) Dim() int { return d.P.Dim() }

// SolveTo stores (P + λI)⁻¹v in dst. It returns P's error, which wraps
// curvature.ErrNotPositiveDefinite when P + λI is not positive definite.
func (d Direct) SolveTo(dst, v []float64) error {
	checkVecs("Direct", dst, v, d.P.Dim())
	if err := checkDamping("Direct.Damping", d.Damping, false); err != nil {
		return err
	}
	return d.P.SolveDampedTo(dst, v, d.Damping)
}

// MulVecTo stores (P + λI)⁻¹v in dst. It panics with SolveTo's error when
// the solve fails; call SolveTo to receive it instead.
func (d Direct) MulVecTo(dst, v []float64) {
	if err := d.SolveTo(dst, v); err != nil {
		panic(err)
	}
}
