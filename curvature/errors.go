package curvature

import "github.com/curvkit/curvkit/internal/numerr"

var (
	// ErrNonFinite is wrapped by every curvkit error about a NaN or an
	// infinity in data, a loss, a gradient, a product or a step, whichever
	// package returns it (firstorder.ErrNonFinite is the same value).
	ErrNonFinite = numerr.NonFinite

	// ErrNotPositiveDefinite is wrapped by every curvkit error about a
	// matrix that must be positive definite and is not: a damped solve of
	// an approximation, a Cholesky factorisation, conjugate gradients.
	ErrNotPositiveDefinite = numerr.NotPositiveDefinite
)
