package inverse

import (
	"errors"
	"fmt"
	"math"

	"github.com/curvkit/curvkit/curvature"
)

// ErrNotConverged is wrapped by the error of a solve that stopped at its
// iteration or term limit above its tolerance, or whose Neumann series
// does not converge. The destination then holds the last iterate.
var ErrNotConverged = errors.New("inverse: not converged")

// Solver is an inverse operator: a curvature.Operator whose product
// v ↦ (A + λI)⁻¹v is computed by an iteration that can fail. SolveTo
// returns the failure; MulVecTo, which cannot, panics with it. CG,
// Neumann, LSMR and Direct implement it.
type Solver interface {
	curvature.Operator
	// SolveTo stores the product in dst and returns an error when the
	// settings are invalid, v is not finite, or the iteration fails
	// (ErrNotConverged, curvature.ErrNotPositiveDefinite,
	// curvature.ErrNonFinite). dst and v have length Dim and must not
	// alias.
	SolveTo(dst, v []float64) error
}

var (
	_ Solver = (*CG)(nil)
	_ Solver = (*Neumann)(nil)
	_ Solver = (*LSMR)(nil)
)

// mustSolve is the MulVecTo of the iterative solvers: SolveTo, panicking
// with the error of a solve that fails. (Direct keeps its own, which passes
// no value through an interface and so does not allocate.)
func mustSolve(s Solver, dst, v []float64) {
	if err := s.SolveTo(dst, v); err != nil {
		panic(err)
	}
}

// Stats describes the last solve of a Solver.
type Stats struct {
	// Iterations counts CG or LSMR iterations, or Neumann terms.
	Iterations int
	// Products counts products with the operator (for LSMR, with J and
	// with Jᵀ, each one).
	Products int
	// Residual is the relative residual ‖v − (A + λI)x‖/‖v‖ of the result
	// as the iteration's recurrence gives it (for LSMR's least squares,
	// the relative residual of the normal equations).
	Residual float64
}

// checkVecs panics when dst or v do not have length n.
func checkVecs(what string, dst, v []float64, n int) {
	if len(dst) != n || len(v) != n {
		panic(fmt.Sprintf("inverse: %s: vectors of length %d and %d for dimension %d", what, len(dst), len(v), n))
	}
}

func badSetting(setting string, v any, reason string) error {
	return fmt.Errorf("inverse: %s = %v: %s", setting, v, reason)
}

// checkDamping validates λ, which must be finite and ≥ 0 (> 0 when
// positive is set).
func checkDamping(setting string, lambda float64, positive bool) error {
	if math.IsNaN(lambda) || math.IsInf(lambda, 0) || lambda < 0 || (positive && lambda == 0) {
		if positive {
			return badSetting(setting, lambda, "must be finite and > 0")
		}
		return badSetting(setting, lambda, "must be finite and ≥ 0")
	}
	return nil
}

// tolerance validates a relative tolerance, 0 meaning def.
func tolerance(setting string, tol, def float64) (float64, error) {
	if tol == 0 {
		return def, nil
	}
	if !(tol > 0 && tol < 1) {
		return 0, badSetting(setting, tol, "must be in (0, 1)")
	}
	return tol, nil
}

// limit validates an iteration cap, 0 meaning def.
func limit(setting string, n, def int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0:
		return 0, badSetting(setting, n, "must not be negative")
	}
	return n, nil
}

// checkFinite returns an error wrapping curvature.ErrNonFinite when v holds
// NaN or Inf.
func checkFinite(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("inverse: %s[%d] = %v: %w", what, i, x, curvature.ErrNonFinite)
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
