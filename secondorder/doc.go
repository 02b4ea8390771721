// Package secondorder takes curvature-aware optimization steps: damped
// Newton and trust-region methods on any curvature.Objective or gonum
// optimize.Problem, with the curvature always given as a
// curvature.Operator — a dense Hessian, an approximation, or an implicit
// product — so the same solvers run on all of them.
//
// # The quadratic model
//
// At x, with gradient g and curvature M (the Hessian, a Gauss–Newton or
// Fisher matrix, an approximation), the model of f(x + p) is
//
//	m(p) = f(x) + gᵀp + ½ pᵀMp,
//
// and every method compares the decrease it predicts with the decrease f
// shows, through the reduction ratio
//
//	ρ = (f(x) − f(x + p)) / (m(0) − m(p)).
//
// ρ is 1 on a quadratic with its exact Hessian, near 1 where the model is
// good, and small or negative where it is not.
//
// # Damped Newton
//
// DampedNewton solves the damped system
//
//	(M + λI) d = −g
//
// by Cholesky (when M is dense, or materialised within a budget) or by
// conjugate gradients on products with M (see Linear), and never takes a
// direction with gᵀd ≥ 0. λ is fixed, or adapted from ρ
// (Levenberg–Marquardt, in Nielsen's form: on acceptance
// λ ← λ·max(1/3, 1 − (2ρ − 1)³), on rejection λ ← νλ with ν doubling).
// The predicted decrease uses the undamped M, m(0) − m(d) = −gᵀd − ½dᵀMd,
// which for M + λI positive definite equals ½dᵀ(M + λI)d + ½λ‖d‖² > 0.
// When M + λI is indefinite, RaiseLambda raises λ until the factorisation
// (or CG) succeeds — the lowest useful λ is above −λ_min(M), bounded by the
// smallest diagonal entry or a Rayleigh quotient CG met — and AbsEigen
// takes d = −Q(|Λ| + λI)⁻¹Qᵀg from M = QΛQᵀ, a descent direction that
// moves away from saddle points along negative curvature. A line search
// (any gonum optimize.Linesearcher) may scale d.
//
// # Trust region
//
// TrustRegion (Nocedal & Wright, Alg. 4.1) minimises m over ‖p‖ ≤ Δ and
// updates the radius from ρ:
//
//	ρ < 1/4               Δ ← Δ/4
//	ρ > 3/4 and ‖p‖ = Δ   Δ ← min(2Δ, Δ_max)
//	otherwise             Δ unchanged
//
// and moves to x + p only if ρ > η (η ∈ [0, 1/4), 0.15 by default, with
// Δ₀ = 1 and Δ_max = 1000 as in SciPy), so no accepted step increases f.
// Four solvers of the subproblem are given:
//
// Cauchy takes the model's minimiser along −g inside the ball,
// p = −τΔg/‖g‖ with τ = min(1, ‖g‖³/(ΔgᵀMg)) (τ = 1 when gᵀMg ≤ 0). Its
// decrease, at least ½‖g‖ min(Δ, ‖g‖/‖M‖), is the yardstick of global
// convergence: every other solver reaches at least the Cauchy decrease.
//
// Dogleg follows the path from the origin to p_U = −(gᵀg/gᵀMg)g and on to
// the Newton step p_B = −M⁻¹g, stopping where it leaves the ball; it needs
// M positive definite and falls back to the Cauchy point otherwise.
//
// Steihaug (Steihaug 1983; Toint 1981) runs conjugate gradients on
// Mp = −g from p = 0 and stops at the first of: a direction d with
// dᵀMd ≤ 0, along which it goes to the boundary (at the crossing with the
// lower model value); an iterate leaving the region, where it stops on the
// boundary; a residual ‖r‖ ≤ min(1/2, √‖g‖)·‖g‖ (or a set tolerance). CG's
// first iterate is the Cauchy point and m decreases along the iterates, so
// the step beats Cauchy's; only products are needed. With a preconditioner
// P applied as (P + μI)⁻¹, the region is ‖p‖_P̃ = √(pᵀP̃p) ≤ Δ for
// P̃ = P + μI and the norms are carried by recurrences (Conn, Gould &
// Toint §7.5).
//
// Exact (Moré & Sorensen 1983) solves the subproblem to a set accuracy:
// by default SciPy's trust-exact tolerances (EasyTol 0.1, HardTol 0.2,
// under which a step may be up to 10% longer than Δ, exact for its own
// length, or with at least 80% of the optimal decrease), or to rounding with
// tight ones; the Exact type documents the stopping rules. p*
// is a global solution if and only if, for some σ ≥ 0,
//
//	(M + σI)p* = −g,   M + σI ⪰ 0,   σ(Δ − ‖p*‖) = 0.
//
// With M = QΛQᵀ (λ₁ ≤ … ≤ λₙ) and ĝ = Qᵀg, p(σ) = −Σ ĝ_i/(λ_i + σ) q_i.
// If λ₁ ≥ 0 and ‖p(0)‖ ≤ Δ the solution is interior. Otherwise σ is the
// root in (max(0, −λ₁), ‖g‖/Δ + max(0, −λ₁)] of the secular equation
//
//	φ(σ) = 1/Δ − 1/‖p(σ)‖ = 0,
//
// which is convex and nearly linear, so Newton's method
// σ ← σ + (‖p‖/‖q‖)²(‖p‖ − Δ)/Δ, ‖q‖² = Σ ĝ_i²/(λ_i + σ)³, converges
// monotonically from the left; bisection catches steps from the right. In
// the hard case ĝ vanishes on the eigenspace of λ₁ < 0 and
// ‖p(−λ₁)‖ < Δ: φ has no root, σ = −λ₁, and the solution is
// p(−λ₁) + τq₁ with q₁ a bottom eigenvector and τ = √(Δ² − ‖p(−λ₁)‖²).
// The same completion is used when σ cannot be told apart from −λ₁ in
// floating point. The eigendecomposition is reused while M is unchanged,
// so re-solving after a rejected step costs O(n²).
//
// # Using the methods
//
// TrustRegion and DampedNewton implement gonum's optimize.Method, so
// optimize.Minimize runs them on any Problem with Grad and Hess. Minimize
// runs them on a curvature.Objective with any curvature (Settings.Curvature),
// updates x in place, and returns a StepRecord per step: the radius or λ,
// ρ, the predicted and actual decrease, and what the step spent in
// function, gradient and curvature evaluations, products and
// factorisations. For research code, SolveTrustRegion and
// DampedNewtonStep solve one subproblem or one damped system.
//
// # Stopping
//
// Both entry points stop on ‖∇f‖∞ < threshold, gonum's test: the threshold
// is Settings.GradientThreshold for Minimize and the method's
// GradStopThreshold under optimize.Minimize, 0 means 1e-8 (the gtol of the
// SciPy runs the tests compare with; gonum's methods use 1e-12) and NaN
// disables the test. Records report ‖∇f‖∞.
//
// # Optimizers for networks
//
// Three methods train a curvature.Model on mini-batches, each with a
// Step(θ, batch) that updates θ in place and returns a record of what the
// step did and spent:
//
//   - KFAC (Martens & Grosse 2015): the gradient preconditioned by the
//     inverse of a block-diagonal Kronecker-factored Fisher with factored
//     Tikhonov damping, (G_l + √γ/π I)⁻¹ ⊗ (A_l + π√γ I)⁻¹ per layer with
//     γ = λ + η; the step δ = αΔ + μδ_prev with α, μ minimising the damped
//     quadratic model ½δᵀ(F + γI)δ + gᵀδ (a 2×2 solve from Jacobian-vector
//     products on the batch); running-average factors, refreshed every T₁
//     steps and inverted every T₂ (by a block inverse on matrix products);
//     λ adapted every T₃ steps from ρ by λ ← λ/ω or ωλ, ω = (19/20)^T₃,
//     with a floor, ρ comparing loss and model on the rows whose curvature
//     the model used (ModelFraction), with their own gradient. Two
//     safeguards beyond the paper: a step that raised the loss is undone
//     on those steps, and a step whose model predicts a decrease larger
//     than half the (non-negative) loss is shortened (ModelTrust).
//   - HessianFree (Martens 2010): CG on (G + λI)d = −g with GGN products,
//     warm starts, Martens' relative-progress stopping rule, CG
//     backtracking over saved iterates, an optional line search, Martens'
//     diagonal preconditioner or any curvature approximation as one,
//     Levenberg–Marquardt λ.
//   - NaturalGradient: θ ← θ − η(M̃ + λI)⁻¹g (with optional momentum) for
//     any curvature M̃: dense Fisher or GGN, diagonal, block-diagonal,
//     K-FAC, EKFAC, TONGA, or an operator solved by CG.
//
// # One solve interface
//
// Curvature enters every solve as a curvature.DampedSolver,
// v ↦ (P + λI)⁻¹v: every approximation of package approx is one, and so is
// OperatorSolver. NaturalGradient steps with one; damped Newton's CG
// (Linear.Preconditioner), HessianFree and Steihaug are preconditioned by
// one, applied with the damping of the system they solve (Steihaug's model
// is undamped, so it has its own PreconditionerDamping). A CurvatureFunc
// builds one at θ on a batch, for NaturalGradient and HessianFree alike.
//
// # Errors
//
// Bad settings (a radius ≤ 0, η outside [0, 1/4), a NaN λ, …) return a
// *SettingError before anything is evaluated. A NaN or Inf objective,
// gradient or curvature stops a run with an error wrapping curvature.ErrNonFinite
// and leaves x at the last accepted point. A matrix that must be positive
// definite and is not gives curvature.ErrNotPositiveDefinite, unless the Indefinite
// strategy handles it. Shape mismatches between values the caller built
// panic with a "secondorder: " message.
//
// # References
//
//   - J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed.,
//     Springer, 2006: Alg. 3.3 (Cholesky with added multiple of the
//     identity), §4.1–4.3 (Alg. 4.1 trust region, Cauchy point, dogleg,
//     Alg. 4.3 and the hard case), Alg. 7.2 (CG–Steihaug).
//   - J. J. Moré and D. C. Sorensen, Computing a trust region step, SIAM
//     J. Sci. Stat. Comput. 4(3):553–572, 1983.
//   - T. Steihaug, The conjugate gradient method and trust regions in large
//     scale optimization, SIAM J. Numer. Anal. 20(3):626–637, 1983;
//     Ph. L. Toint, Towards an efficient sparsity exploiting Newton method
//     for minimization, in Sparse Matrices and Their Uses, 1981.
//   - A. R. Conn, N. I. M. Gould and Ph. L. Toint, Trust-Region Methods,
//     SIAM, 2000, §7.5 (preconditioned truncated CG).
//   - H. B. Nielsen, Damping parameter in Marquardt's method, IMM-REP-1999-05,
//     Technical University of Denmark, 1999.
//   - Y. Dauphin et al., Identifying and attacking the saddle point problem
//     in high-dimensional non-convex optimization, NeurIPS 2014 (|Λ| step).
//   - J. Martens and R. Grosse, Optimizing neural networks with
//     Kronecker-factored approximate curvature, ICML 2015.
//   - J. Martens, Deep learning via Hessian-free optimization, ICML 2010.
//   - J. Ba, R. Grosse and J. Martens, Distributed second-order optimization
//     using Kronecker-factored approximations, ICLR 2017 (norm constraint).
//   - S. Amari, Natural gradient works efficiently in learning, Neural
//     Computation 10(2):251–276, 1998.
package secondorder
