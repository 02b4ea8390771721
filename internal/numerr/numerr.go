// Package numerr holds the two numerical error values every curvkit package
// reports, so that errors.Is finds them whichever package returned the
// error. The public packages export these same values: curvature's
// ErrNonFinite and ErrNotPositiveDefinite (which approx, secondorder and
// spectral use), and firstorder's ErrNonFinite, which stays free of the
// curvature import. First serves the settings checks of those packages.
package numerr

import "errors"

var (
	// NonFinite is wrapped by errors about a NaN or an infinity: in data,
	// a loss, a gradient, a product or a computed step.
	NonFinite = errors.New("non-finite value")

	// NotPositiveDefinite is wrapped by errors about a matrix that must be
	// positive definite and is not: a Cholesky factorisation, a damped
	// solve, conjugate gradients meeting non-positive curvature.
	NotPositiveDefinite = errors.New("matrix is not positive definite")
)

// First returns the first of errs that is not nil, or nil: of a list of
// settings checks, the one a constructor reports.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
