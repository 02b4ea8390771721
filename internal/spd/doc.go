// Package spd inverts symmetric positive definite matrices with matrix
// products: the damped Kronecker factors of K-FAC, inverted once and then
// applied by general products many times.
//
// Inverse uses the block inverse
//
//	[A  B]⁻¹   [A⁻¹ + U Tᵀ   −U ]
//	[Bᵀ C]   = [−Uᵀ          X⁻¹],  T = A⁻¹B,  X = C − BᵀT,  U = T X⁻¹,
//
// recursively on A and on the Schur complement X down to order 32, where
// LAPACK's Cholesky inverse (Potrf, Potri) takes over. Its work is n³
// multiply-adds like a Cholesky-based inverse, but nearly all of it in
// internal/gemm's kernels. The pivots of the Cholesky factorisations at
// the bottom are exactly those of S's own, so a matrix that is not
// positive definite, or singular to working precision, is refused.
package spd
