// Package gemm multiplies the small and medium dense matrices of curvkit's
// hot loops: the layers' forward and backward passes, the Kronecker factors'
// statistics and K-FAC's preconditioning.
//
// Gemm computes C ← α op(A) op(B) + β C with blas64.Gemm's semantics (β = 0
// never reads C). On amd64 with AVX2 and FMA it packs op(A) into panels of
// 4 rows and op(B) into panels of 12 columns, in blocks of 256 along the
// inner dimension, and runs a 4×12 register-blocked micro-kernel in
// assembly: twelve 4-wide accumulators, one broadcast of A and three loads
// of B per step of the inner dimension. Elsewhere, and when a BLAS other
// than gonum's own is registered with blas64.Use (the OpenBLAS build), it
// calls blas64.Gemm.
//
// The products agree with blas64.Gemm to rounding: the sums are the same
// but taken in another order (and with fused multiply-adds), so results
// may differ in the last bits. With the kernel, each entry of C is summed in the same order
// whatever the shape of the product, so a row of a product does not depend
// on how many other rows it is computed with: a network's output for one
// sample is the same bits alone or in a batch.
package gemm
