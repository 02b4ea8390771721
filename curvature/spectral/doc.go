// Package spectral computes spectral quantities of a symmetric curvature
// operator — any curvature.Operator: a dense matrix, a matrix-free
// Hessian, GGN or Fisher of a network (curvature.Model.Operator), or an
// approximation (approx.Approximation) — from products M·v alone:
// extreme eigenpairs, the trace, the diagonal, the Frobenius norm and the
// spectral density, of the whole operator or of its diagonal blocks (a
// network's layers).
//
// # Eigenpairs
//
// Lanczos builds an orthonormal basis Q_j of the Krylov space
// span{v, Mv, …, M^{j−1}v} of a seeded random v and the tridiagonal
// T_j = Q_jᵀMQ_j with
//
//	M q_i = β_{i−1} q_{i−1} + α_i q_i + β_i q_{i+1}.
//
// The Ritz pairs (θ, y = Q_j s) of an eigenpair (θ, s) of T_j approximate
// eigenpairs of M, the extreme ones first, and their residuals are free:
// ‖My − θy‖ = β_j|e_jᵀs|. Each new vector is orthogonalised against all
// earlier ones, twice (full reorthogonalisation), so Q_j stays orthonormal
// to rounding and no spurious copies of converged values appear; memory is
// j·n floats. The iteration stops when the K wanted pairs satisfy
//
//	‖My − θy‖ ≤ Tol·max(|θ|, √ε‖T‖)
//
// (or lie at the rounding level of the products), checked first on the
// free estimates and then by one product per pair; the residuals of the
// returned pairs are always the ones recomputed. For a symmetric M each
// Ritz value θ lies within its residual of an eigenvalue of M, and
// (Kahan–Parlett) within ‖r‖²/gap when the gap to the rest of the
// spectrum is known. If the Krylov space becomes invariant (β ≤ 1e-10‖T‖)
// the process restarts from a random vector orthogonal to it; since one
// Krylov space holds each eigenvalue once, repeated eigenvalues are found
// with their multiplicity only through such restarts, and the iteration
// continues while the newest block still yields wanted values. There is
// no implicit restart: MaxSteps bounds the work and the memory, and a
// run that needs more returns its pairs with ErrNotConverged.
//
// Power is the baseline PyHessian uses: power iteration with deflation,
// one product per iteration, converging linearly with ratio
// |λ_{i+1}/λ_i|, to the eigenvalues of largest magnitude.
//
// # Trace and diagonal
//
// With probes z of E[zzᵀ] = I, tr(M) = E[zᵀMz] (Hutchinson 1990); with m
// Rademacher probes the estimate has variance 2(‖M‖_F² − Σ M_ii²)/m. The
// diagonal is estimated likewise by Σ z⊙Mz ⊘ Σ z⊙z (Bekas, Kokiopoulou &
// Saad 2007), entry i with variance Σ_{j≠i} M_ij²/m. Hutch++ (Meyer,
// Musco, Musco & Woodruff 2021) spends a third of its products on a
// sketch MS, computes the trace on Q = orth(MS) exactly,
//
//	tr(M) = tr(QᵀMQ) + tr((I − QQᵀ)M(I − QQᵀ)),
//
// and Hutchinson-estimates only the deflated remainder, whose Frobenius
// norm is small when the spectrum decays: relative error ε with O(1/ε)
// products for positive semidefinite M, against O(1/ε²).
//
// XTrace (Epperly, Tropp & Webber 2024) makes every probe serve both
// parts. From m probes ω_i and the sketch Y = MΩ it forms, for each i, the
// basis Q_(i) of the sketch without ω_i, which is independent of ω_i, and
// the unbiased
//
//	t_i = tr(Q_(i)ᵀMQ_(i)) + ω_iᵀ(I − Q_(i)Q_(i)ᵀ)M(I − Q_(i)Q_(i)ᵀ)ω_i;
//
// their mean is the estimate and their spread its standard error. Every
// Q_(i) is the basis Q of the whole sketch less one direction, so the m
// estimates cost 2m products in all: the sketch and M·Q. It is exact for
// an M of rank below m, and more accurate than Hutch++ for the same
// products. XDiag is the same design for the diagonal,
// diag(Q_(i)Q_(i)ᵀM) + ω_i ⊙ (I − Q_(i)Q_(i)ᵀ)Mω_i averaged over i.
//
// The squared Frobenius norm is a trace too, ‖M‖_F² = tr(M²) = E‖Mz‖²,
// estimated from one product per probe with the variance of Hutchinson's
// estimator for M².
//
// # Blocks and layers
//
// curvature.Restrict turns the diagonal block [lo, hi) of an operator into
// an operator (one product with the whole operator per product), so every
// estimator above applies to a block. BlockTraces and BlockEigen run a
// trace estimator and an eigensolver (XTrace and Lanczos by default) on
// each of a list of blocks; with a network's layer ranges,
// curvature.Model.ParamBlocks, they give the per-layer traces and top
// eigenvalues PyHessian reports, for any curvature matrix or
// approximation:
//
//	h, _ := m.Operator(curvature.Hessian, theta, b, nil)
//	traces, _ := spectral.BlockTraces(h, m.ParamBlocks(), &spectral.XTrace{Products: 60})
//	tops, _ := spectral.BlockEigen(h, m.ParamBlocks(), &spectral.Lanczos{K: 3})
//
// They take an operator and ranges, not a model, so that they work on
// approximations and dense matrices alike and the package stays free of
// networks.
//
// # Spectral density
//
// The density φ(t) = (1/n) Σ δ(t − λ_i) is estimated by stochastic Lanczos
// quadrature (Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019;
// PyHessian). For a unit v, vᵀf(M)v = Σ_i (q_iᵀv)² f(λ_i) is an integral
// against a measure whose m-point Gauss rule is given by m Lanczos steps
// from v: nodes θ_k, the eigenvalues of T_m, and weights τ_k² with τ_k the
// first components of T_m's eigenvectors; it is exact for polynomials of
// degree below 2m. Averaging over Rademacher probes (E[vvᵀ] = I/n) gives
// nodes with weights summing to 1, and replacing each node by a Gaussian
// of width σ gives a smooth density that integrates to 1 and a
// distribution function Σ w_k Φ((t − θ_k)/σ). The package keeps to the
// numbers: Density holds the nodes, weights and the broadened curve on a
// grid, and examples/spectrum shows how to write them as CSV and draw
// them.
//
// # Memory, randomness and errors
//
// Every tool states in Floats(n) the float64 values it allocates for an
// operator of dimension n (the Krylov basis, the tridiagonal's
// eigenvectors, the sketch, the returned vectors) and refuses to start,
// before any product, with a *curvature.BudgetError when that exceeds its
// Budget. Randomness comes from Rand, or from a generator seeded with
// Seed, so a seed fixes every result. Bad settings return an error; a
// product with NaN or Inf returns curvature.ErrNonFinite; a destination of the
// wrong length is a programming error and panics. Lanczos and SLQ, the
// long runs, report their steps to a curvature.Progress when given one.
//
// # Concurrency
//
// The tools' settings values (Lanczos, Power, SLQ, Hutchinson,
// HutchPlusPlus) hold no work space: with Rand nil every call draws from a
// generator of its own, so goroutines may run them at once, and on one
// operator when the operator may be shared (those of
// curvature.Model.Operator may; their products take turns). A value whose
// Rand is set must be used by one goroutine at a time, as a *rand.Rand
// must.
//
// # References
//
//   - C. Lanczos, An iteration method for the solution of the eigenvalue
//     problem of linear differential and integral operators, J. Res. Nat.
//     Bur. Standards 45, 1950; B. N. Parlett, The Symmetric Eigenvalue
//     Problem, SIAM, 1998 (ch. 11–13: Ritz bounds, full reorthogonalisation).
//   - M. F. Hutchinson, A stochastic estimator of the trace of the
//     influence matrix for Laplacian smoothing splines, Commun. Stat.
//     Simul. Comput. 19(2), 1990.
//   - C. Bekas, E. Kokiopoulou and Y. Saad, An estimator for the diagonal
//     of a matrix, Appl. Numer. Math. 57(11–12), 2007.
//   - R. A. Meyer, C. Musco, C. Musco and D. P. Woodruff, Hutch++: optimal
//     stochastic trace estimation, SOSA 2021.
//   - E. N. Epperly, J. A. Tropp and R. J. Webber, XTrace: making the most
//     of every sample in stochastic trace estimation, SIAM J. Matrix Anal.
//     Appl. 45(1), 2024.
//   - S. Ubaru, J. Chen and Y. Saad, Fast estimation of tr(f(A)) via
//     stochastic Lanczos quadrature, SIAM J. Matrix Anal. Appl. 38(4), 2017.
//   - L. Lin, Y. Saad and C. Yang, Approximating spectral densities of
//     large matrices, SIAM Rev. 58(1), 2016.
//   - B. Ghorbani, S. Krishnan and Y. Xiao, An investigation into neural
//     net optimization via Hessian eigenvalue density, ICML 2019.
//   - Z. Yao, A. Gholami, K. Keutzer and M. W. Mahoney, PyHessian: neural
//     networks through the lens of the Hessian, IEEE BigData 2020.
package spectral
