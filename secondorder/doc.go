// Package secondorder takes curvature-aware optimization steps: damped
// Newton and trust-region methods on any curvature.Objective or gonum
// optimize.Problem, and optimizers that train networks — K-FAC,
// Hessian-free, natural gradient — with the curvature always a
// curvature.Operator or curvature.DampedSolver, so the same solvers run on
// a dense Hessian, an approximation of package approx, or an implicit
// product.
//
// # The quadratic model
//
// At x, with gradient g and curvature M, every method models f(x + p) by
// m(p) = f(x) + gᵀp + ½pᵀMp and compares the decrease it predicts with the
// decrease f shows, ρ = (f(x) − f(x + p))/(m(0) − m(p)): 1 on a quadratic
// with its exact Hessian, small or negative where the model is poor.
//
// # Functions
//
// DampedNewton solves (M + λI)d = −g by Cholesky or conjugate gradients
// (Linear), with λ fixed or adapted from ρ (LevenbergMarquardt) and an
// indefinite M handled as Indefinite says. TrustRegion (Nocedal & Wright,
// Alg. 4.1) minimises m over ‖p‖ ≤ Δ with a SubproblemSolver — Cauchy,
// Dogleg, Steihaug (truncated CG, matrix-free), GLTR (generalized Lanczos,
// matrix-free, as SciPy's trust-krylov) or Exact (Moré & Sorensen) — and
// updates Δ from ρ. Both are gonum optimize.Methods, so optimize.Minimize
// runs them on any Problem with Grad and Hess, and Steppers, so Minimize
// runs them on a curvature.Objective with any curvature
// (Settings.Curvature), returning a StepRecord per step (rejected trials
// included) and the Stats of the run. SolveTrustRegion and
// DampedNewtonStep solve one subproblem or one damped system.
//
// # Stopping
//
// Both entry points stop on ‖∇f‖∞ < threshold, gonum's test: the threshold
// is Settings.GradientThreshold for Minimize and the method's
// GradStopThreshold under optimize.Minimize; 0 means 1e-8 and NaN disables
// the test. A run also converges, with status optimize.MethodConverge and
// no error, when x is stationary to working precision: the trust region's
// interior step (the model's own minimiser) cannot change x, or half of
// damped Newton's full step cannot while that step solves the Newton
// system to relative residual 1/2 (λ‖d‖ ≤ ½‖g‖). Under optimize.Minimize that is a converged run, not a Failure;
// a gradient test tighter than the gradient's rounding error ends this way.
//
// A method's Stats, under either entry point, count every step — the trust
// region's rejected trials and Levenberg–Marquardt's rejected steps
// included — and the evaluations, products and factorisations of the run;
// optimize.Minimize's own Stats count the accepted steps only, as major
// iterations.
//
// # Networks
//
// An Optimizer takes a Step on θ and a batch and returns a Record, the same
// for every method: KFAC (Martens & Grosse 2015, on an approx.KFAC it
// keeps), HessianFree (Martens 2010), NaturalGradient (θ ← θ − η(M̃ + λI)⁻¹g
// for any curvature: dense, diagonal, block-diagonal, K-FAC, EKFAC, TONGA,
// an operator solved by CG) and FirstOrder, which drives any optimizer of
// package firstorder.
//
// Curvature enters every solve as a curvature.DampedSolver, v ↦ (P + λI)⁻¹v:
// every approximation of package approx is one, and so is OperatorSolver.
// NaturalGradient steps with one; damped Newton's CG (Linear), HessianFree
// and Steihaug are preconditioned by one, applied with the damping of the
// system they solve. A CurvatureFunc builds one at θ on a batch.
//
// # Saved state
//
// KFAC, HessianFree and NaturalGradient Save their state to an io.Writer
// and Load it back, so that a run saved after step k and resumed — in the
// same process or another, into an optimizer built for the same model with
// the same settings — continues bit for bit as one that never stopped, as
// firstorder's optimizers do. The format, integers and floats
// little-endian, floats as their IEEE 754 bits, is
//
//	"CKSOSTAT"            8 bytes, magic
//	version               uint32, 1
//	kind length, kind     uint8, then ASCII: "K-FAC", "Hessian-free" or
//	                      "natural gradient"
//	n                     uint64, number of parameters
//	K-FAC                 step and update counts (uint64), λ, a flag (0 or
//	                      1) whether the factors were refactorised and the
//	                      γ they were (float64), δ_prev (n float64), and the
//	                      approx.KFAC's MarshalBinary bytes (uint64 length,
//	                      then the bytes): its statistics, the
//	                      factorisation in use and its generator's state
//	Hessian-free          step count, λ, the warm start (n float64)
//	natural gradient      step count and the curvature's age (uint64), a
//	                      flag whether it had one, the velocity (n float64)
//	CRC-32                uint32, IEEE polynomial, of all preceding bytes
//
// Load reads exactly those bytes, and changes nothing on an error: a
// checksum that does not match, another kind or number of parameters, a
// K-FAC of another shape or factor kind, or values no run gives (a NaN or
// infinite vector, a λ outside the optimizer's bounds, counts that do not
// fit). What cannot be saved is said where it applies: a *rand.Rand of the
// caller's (KFACSettings.Rand), a natural-gradient curvature (recomputed on
// the first step after Load; NaturalGradient.Save), the state a
// CurvatureFunc keeps between calls.
//
// # Concurrency
//
// Every method and optimizer keeps state between steps — λ, Δ, moments,
// statistics, work space — and changes it as it runs: a DampedNewton, TrustRegion (and its SubproblemSolver), KFAC,
// HessianFree, NaturalGradient, FirstOrder or OperatorSolver value serves
// one goroutine at a time; separate values are independent, so parallel
// runs each build their own. Settings structs are plain values. The
// CurvatureFuncs of this package may be called from several goroutines,
// but TONGACurvature's, which feeds one estimate from every call, and any
// whose settings hold a *rand.Rand. The
// function DampedNewtonStep is as safe as the operator it is given, and
// SolveTrustRegion as the operator and the solver.
//
// # Errors
//
// Bad settings return a *SettingError before anything is evaluated. A NaN
// or infinite objective at a trial point is no decrease: the trust region
// rejects the trial and shrinks its radius, Levenberg–Marquardt rejects
// the step and raises λ, and damped Newton's line search starts again from
// half the step (as it does for a non-finite gradient at a trial point of
// a line search that evaluates one). A NaN or Inf objective at the
// starting point, or gradient or curvature at a point being accepted,
// stops a run with an error wrapping curvature.ErrNonFinite and leaves x
// at the last accepted point.
// A matrix that must be positive definite and is not gives
// curvature.ErrNotPositiveDefinite, unless the Indefinite strategy handles
// it. Shape mismatches between values the caller built panic with a
// "secondorder: " message.
//
// # References
//
//   - J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed.,
//     Springer, 2006: Alg. 3.3, §4.1–4.3, Alg. 4.1, 4.3, 7.2.
//   - J. J. Moré and D. C. Sorensen, Computing a trust region step, SIAM
//     J. Sci. Stat. Comput. 4(3):553–572, 1983; A. K. Cline, C. B. Moler,
//     G. W. Stewart and J. H. Wilkinson, An estimate for the condition
//     number of a matrix, SIAM J. Numer. Anal. 16(2):368–375, 1979.
//   - N. I. M. Gould, S. Lucidi, M. Roma and Ph. L. Toint, Solving the
//     trust-region subproblem using the Lanczos method, SIAM J. Optim.
//     9(2):504–525, 1999; F. Lenders, C. Kirches and A. Potschka, trlib: a
//     vector-free implementation of the GLTR method, Optim. Methods Softw.
//     33(3):420–449, 2018.
//   - T. Steihaug, SIAM J. Numer. Anal. 20(3):626–637, 1983; Ph. L. Toint,
//     in Sparse Matrices and Their Uses, 1981; A. R. Conn, N. I. M. Gould
//     and Ph. L. Toint, Trust-Region Methods, SIAM, 2000, §7.3, §7.5,
//     §17.4.
//   - H. B. Nielsen, Damping parameter in Marquardt's method,
//     IMM-REP-1999-05, Technical University of Denmark, 1999.
//   - Y. Dauphin et al., Identifying and attacking the saddle point problem
//     in high-dimensional non-convex optimization, NeurIPS 2014.
//   - J. Martens and R. Grosse, Optimizing neural networks with
//     Kronecker-factored approximate curvature, ICML 2015; J. Ba, R. Grosse
//     and J. Martens, Distributed second-order optimization using
//     Kronecker-factored approximations, ICLR 2017.
//   - J. Martens, Deep learning via Hessian-free optimization, ICML 2010.
//   - S. Amari, Natural gradient works efficiently in learning, Neural
//     Computation 10(2):251–276, 1998.
package secondorder
