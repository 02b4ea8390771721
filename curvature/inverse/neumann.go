package inverse

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/spectral"
	"github.com/curvkit/curvkit/internal/pcg"
)

// Neumann is the operator v ↦ (M + λI)⁻¹v of a symmetric operator M,
// applied by the Neumann series
//
//	(M + λI)⁻¹v = s Σ_{k≥0} B^k v,    B = I − s(M + λI),
//
// the sum behind LiSSA (Agarwal, Bullins & Hazan 2017) and the influence
// functions of Koh & Liang (2017). The series converges exactly when
// ‖B‖ < 1, that is when every eigenvalue of M + λI lies in (0, 2/s): M + λI
// positive definite and the scale s below 2/λ_max(M + λI). Each term
// costs one product, and the residual of the partial sum x_K = s Σ_{k<K}
// B^k v is free: v − (M + λI)x_K = B^K v, the next term over s. The error
// falls like ρ^K with ρ = ‖B‖ = 1 − s·λ_min(M + λI) for s = 1/λ_max, so
// the series needs about κ·log(1/Tol) terms for a condition number κ of
// M + λI — far more than CG's √κ·log(1/Tol) — and is worth its simplicity
// when a truncated sum is wanted on purpose (a few hundred terms act as a
// regulariser) or the products are stochastic.
//
// The convergence condition is checked as the terms are summed: for a
// symmetric B, ‖B^k v‖ is log-convex in k, so the ratios of successive
// terms never decrease; a term no smaller than the one before proves that
// ‖B‖ ≥ 1 on v's components and the series does not converge, which
// SolveTo reports as an error wrapping ErrNotConverged.
//
// A Neumann keeps its work vectors and its scale between solves and is not
// safe for concurrent use.
type Neumann struct {
	// Op is M.
	Op curvature.Operator
	// Damping is λ ≥ 0; zero means no damping.
	Damping float64
	// Scale is s > 0. If it is 0, s = 1/(θ + r + λ) from the Lanczos
	// estimate θ of λ_max(M) with residual r (spectral.Lanczos, seeded with
	// Seed, about 20–40 products), estimated at the first solve and kept:
	// θ + r bounds the eigenvalue θ approximates, so s·(λ_max + λ) ≤ 1 once
	// Lanczos has found the top eigenvalue. Set Scale, or use a new
	// Neumann, when Op changes.
	Scale float64
	Seed  uint64
	// Terms, if positive, fixes the number of terms: the series is cut
	// there on purpose, whatever the residual, and Tol and MaxTerms are
	// not used.
	Terms int
	// Tol is the relative residual ‖v − (M + λI)x‖/‖v‖ at which summing
	// stops. If it is 0, it defaults to 1e-10; it must be in (0, 1).
	Tol float64
	// MaxTerms caps the terms when Terms is 0. If it is 0, it defaults to
	// 10000; reaching it above Tol is an error wrapping ErrNotConverged.
	MaxTerms int

	top   float64 // θ + r, once estimated
	t, mt []float64
	stats Stats
}

// Dim returns the dimension of Op.
func (nm *Neumann) Dim() int { return nm.Op.Dim() }

// Stats returns what the last solve spent and reached (the products of
// the scale's estimate are not counted).
func (nm *Neumann) Stats() Stats { return nm.stats }

// MulVecTo stores the sum of the series for v in dst. It panics with
// SolveTo's error when the solve fails; call SolveTo to receive it
// instead.
func (nm *Neumann) MulVecTo(dst, v []float64) { mustSolve(nm, dst, v) }

// EffectiveScale returns the scale s the solves use: Scale, or the
// automatic one (estimating it now if no solve has yet).
func (nm *Neumann) EffectiveScale() (float64, error) {
	if err := checkDamping("Neumann.Damping", nm.Damping, false); err != nil {
		return 0, err
	}
	if nm.Scale != 0 {
		if !(nm.Scale > 0) || !finite(nm.Scale) {
			return 0, badSetting("Neumann.Scale", nm.Scale, "must be finite and > 0")
		}
		return nm.Scale, nil
	}
	if nm.top == 0 {
		res, err := (&spectral.Lanczos{K: 1, Tol: 1e-3, Seed: nm.Seed}).Eigen(nm.Op)
		if err != nil && !errors.Is(err, spectral.ErrNotConverged) {
			return 0, fmt.Errorf("inverse: Neumann scale: %w", err)
		}
		nm.top = res.Values[0] + res.Residuals[0]
	}
	if !(nm.top+nm.Damping > 0) {
		return 0, fmt.Errorf("inverse: Neumann scale: %w: λ_max(M) + λ ≈ %.3g ≤ 0", curvature.ErrNotPositiveDefinite, nm.top+nm.Damping)
	}
	return 1 / (nm.top + nm.Damping), nil
}

// SolveTo stores the sum of the series for v in dst: (M + λI)⁻¹v to within
// Tol, or its truncation after Terms terms. When the series does not
// converge or MaxTerms is reached, dst holds the last partial sum and the
// error wraps ErrNotConverged.
func (nm *Neumann) SolveTo(dst, v []float64) error {
	nm.stats = Stats{}
	n := nm.Op.Dim()
	checkVecs("Neumann", dst, v, n)
	if nm.Terms < 0 {
		return badSetting("Neumann.Terms", nm.Terms, "must not be negative")
	}
	tol, err := tolerance("Neumann.Tol", nm.Tol, 1e-10)
	if err != nil {
		return err
	}
	maxTerms, err := limit("Neumann.MaxTerms", nm.MaxTerms, 10000)
	if err != nil {
		return err
	}
	if err := checkFinite("Neumann right-hand side", v); err != nil {
		return err
	}
	s, err := nm.EffectiveScale()
	if err != nil {
		return err
	}
	nm.t = pcg.Resize(nm.t, n)
	nm.mt = pcg.Resize(nm.mt, n)
	t, mt := nm.t, nm.mt
	clear(dst)
	vn := floats.Norm(v, 2)
	if vn == 0 {
		return nil
	}
	copy(t, v) // t = B^k v, the residual of the partial sum
	prev := vn
	for {
		floats.AddScaled(dst, s, t)
		nm.stats.Iterations++
		nm.Op.MulVecTo(mt, t)
		nm.stats.Products++
		// t ← t − s(M + λI)t
		if nm.Damping != 0 {
			floats.Scale(1-s*nm.Damping, t)
		}
		floats.AddScaled(t, -s, mt)
		tn := floats.Norm(t, 2)
		if !finite(tn) {
			return fmt.Errorf("inverse: Neumann: operator product: %w", curvature.ErrNonFinite)
		}
		nm.stats.Residual = tn / vn
		switch {
		case tn == 0:
			return nil // exact
		case tn >= prev:
			return fmt.Errorf("%w: Neumann series: term %d is %.3g× term %d, so ‖I − s(M + λI)‖ ≥ 1 with s = %.3g, λ = %g: M + λI has an eigenvalue ≤ 0 or above 2/s", ErrNotConverged, nm.stats.Iterations+1, tn/prev, nm.stats.Iterations, s, nm.Damping)
		case nm.Terms > 0:
			if nm.stats.Iterations == nm.Terms {
				return nil
			}
		case tn <= tol*vn:
			return nil
		case nm.stats.Iterations == maxTerms:
			return fmt.Errorf("%w: Neumann series: relative residual %.3g after %d terms, above Tol = %g", ErrNotConverged, tn/vn, maxTerms, tol)
		}
		prev = tn
	}
}
