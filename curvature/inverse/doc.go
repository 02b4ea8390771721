// Package inverse applies damped inverses of curvature operators,
// v ↦ (M + λI)⁻¹v, from products alone, as influence functions, Laplace
// approximations and natural-gradient code need them: every inverse is a
// curvature.Operator, so it composes with everything that takes one
// (spectral's estimators, secondorder's solvers), and a Solver whose
// SolveTo returns the errors a product cannot.
//
// # Solvers
//
// CG runs preconditioned conjugate gradients on (M + λI)x = v. It needs
// M + λI positive definite, reaches a relative residual ε in about
// √κ·log(2/ε) iterations for the condition number κ of M + λI, and
// accepts any curvature.DampedSolver — every approximation of package
// approx — as the preconditioner (P + λI)⁻¹.
//
// Neumann sums the series (M + λI)⁻¹ = s Σ_k (I − s(M + λI))^k, which
// converges exactly when ‖I − s(M + λI)‖ < 1, i.e. every eigenvalue of
// M + λI lies in (0, 2/s). The scale s defaults to 1/(λ_max(M) + λ) from
// a Lanczos estimate; the condition is checked as the terms are summed,
// since for a symmetric operator the ratio of successive terms never
// decreases, so a term that does not shrink proves divergence. It needs
// about κ·log(1/ε) terms, and serves where a deliberately truncated
// series is wanted (LiSSA).
//
// LSMR (Fong & Saunders 2011) solves the damped least-squares problem
// min ‖Jx − b‖² + λ‖x‖² for a Rectangular J known through J·v and Jᵀ·u,
// without forming JᵀJ; as an operator it applies (JᵀJ + λI)⁻¹, the damped
// inverse of a Gauss–Newton matrix G = JᵀJ given its square root.
//
// Direct applies (P + λI)⁻¹ through a curvature.DampedSolver's own
// structure, without iterating: the damped inverse of an approximation of
// package approx, K-FAC's with exact or factored damping among them.
//
// # Residuals, limits and errors
//
// Every iterative solver starts from x = 0, stops at a relative residual Tol (1e-10
// by default) — ‖v − (M + λI)x‖/‖v‖, for LSMR's least squares that of
// the normal equations — and reports what it spent in Stats. Settings
// follow gonum: zero means a documented default, except Damping, where
// zero is no damping. Failures are errors: a limit reached above Tol or a
// diverging series wraps ErrNotConverged (the destination keeps the last
// iterate), non-positive curvature wraps curvature.ErrNotPositiveDefinite,
// a NaN or an infinity wraps curvature.ErrNonFinite. MulVecTo, whose
// signature has no error, panics with the error SolveTo would return; a
// caller that can meet failures calls SolveTo.
// Solvers keep their work vectors between calls and are not safe for
// concurrent use.
//
// # References
//
//   - M. R. Hestenes and E. Stiefel, Methods of conjugate gradients for
//     solving linear systems, J. Res. Nat. Bur. Standards 49(6), 1952;
//     J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed.,
//     Springer, 2006, Alg. 5.3.
//   - D. C.-L. Fong and M. A. Saunders, LSMR: an iterative algorithm for
//     sparse least-squares problems, SIAM J. Sci. Comput. 33(5), 2011.
//   - N. Agarwal, B. Bullins and E. Hazan, Second-order stochastic
//     optimization for machine learning in linear time, JMLR 18, 2017
//     (LiSSA).
//   - P. W. Koh and P. Liang, Understanding black-box predictions via
//     influence functions, ICML 2017.
package inverse
