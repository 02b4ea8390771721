// Package secondorder takes curvature-aware optimization steps: damped
// Newton and trust-region methods on a function, and K-FAC, Hessian-free
// and natural-gradient training of networks. Curvature enters as a
// curvature.Operator (products M·v) or a curvature.DampedSolver
// (v ↦ (M̃ + λI)⁻¹v), so the same code runs on a dense Hessian, an
// approximation of package approx, or an implicit product.
// docs/secondorder.md has the derivations, tuning notes and SciPy comparisons.
//
// # Minimising a function
//
// At x, with gradient g and curvature M, a step minimises the model
// m(p) = f(x) + gᵀp + ½pᵀMp and is judged by ρ = (f(x) − f(x+p))/(m(0) − m(p)).
// DampedNewton solves (M + λI)d = −g as Linear says (Cholesky or conjugate
// gradients), with λ fixed or adapted from ρ (LevenbergMarquardt) and an
// indefinite M handled as Indefinite says. TrustRegion minimises m over
// ‖p‖ ≤ Δ with a SubproblemSolver:
//
//	Cauchy    the minimiser along −g; one product
//	Dogleg    the dogleg path, of M + λI where M is indefinite
//	Steihaug  truncated conjugate gradients; matrix-free, preconditioned
//	GLTR      generalized Lanczos (SciPy's trust-krylov); matrix-free
//	Exact     Moré & Sorensen, a Cholesky factorisation per iterate
//
// Both methods are gonum optimize.Methods, which optimize.Minimize runs on a
// Problem with Grad and Hess, and Steppers, which Minimize runs on a
// curvature.Objective with any curvature (Settings.Curvature). Each step,
// rejected trials included, gives a StepRecord; Stats sums a run.
//
// # Stopping
//
// A run stops at ‖∇f‖∞ < threshold (Settings.GradientThreshold for
// Minimize, the method's GradStopThreshold under optimize.Minimize; 0 means
// 1e-8, NaN disables the test). It also converges, with status
// optimize.MethodConverge and no error, when the step to the model's
// minimiser can no longer change x.
//
// # Networks
//
// An Optimizer takes a Step on θ and a batch and returns a Record, the same
// for every method: KFAC, HessianFree, NaturalGradient (with any curvature
// a CurvatureFunc builds) and FirstOrder (an optimizer of package
// firstorder). Every approximation of package approx is a DampedSolver, as
// is OperatorSolver: one steps NaturalGradient and preconditions the
// conjugate gradients of Linear and HessianFree, Steihaug and GLTR. KFAC,
// HessianFree and NaturalGradient Save their state and Load it back so that
// a resumed run continues bit for bit.
//
// # Errors
//
// Bad settings return a *SettingError before anything is evaluated. A NaN or
// infinite objective at a trial point rejects the trial; at the starting
// point, or in a gradient or curvature at a point being accepted, it stops the run with an error wrapping
// curvature.ErrNonFinite and x at the last accepted point. A matrix that
// must be positive definite and is not gives
// curvature.ErrNotPositiveDefinite. Shape mismatches between values the
// caller built panic.
//
// # Concurrency
//
// Methods, solvers and optimizers keep state between steps: a value serves
// one goroutine at a time, and separate values are independent. The
// CurvatureFuncs here may be called concurrently, except TONGACurvature's
// and those whose settings hold a *rand.Rand.
package secondorder
