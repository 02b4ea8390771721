// Package gemm multiplies the small and medium dense matrices of curvkit's
// hot loops: the layers' forward and backward passes, the Kronecker factors'
// statistics, K-FAC's preconditioning and inversions, and the dense
// curvature assembly.
//
// Gemm computes C ← α op(A) op(B) + β C with blas64.Gemm's semantics (β = 0
// never reads C); Syrk computes the upper triangle of AᵀA or AAᵀ. On amd64
// they run a register-blocked micro-kernel in assembly, chosen at start:
// a 12×16 tile in 24 AVX-512 registers, or a 4×12 tile in 12 AVX2
// registers with fused multiply-adds. A product of at most 8 columns, which
// would fill the 16-wide tile to half or less (a convolution's 6 output
// channels), takes a 12×8 AVX-512 tile instead: 1.5–2.1 times as fast on
// the first LeNet convolution's outputs and about twice on its weight
// gradient (BenchmarkGemmNarrow). op(B) is packed into panels of 16 (or 12, or 8)
// columns in blocks of 256 along the inner dimension, so that a panel stays
// in L1, except in a product of at most one block of rows (132) with op(B)
// = B, which would use each panel once: the kernel then reads B's rows in
// place (the kernels take B's row step), unless their stride aliases in L1,
// and packs only a last partial panel. op(A) is read in place, its rows (or columns, when
// transposed) being sequential streams, except where its rows alias in L1
// (a stride of a multiple of 2 KiB, as 512-wide activations have) and C
// has 256 columns or more, so that each packed block serves 16 panels of
// B. The last rows of a block, when fewer than 12, go through 8-, 4- and
// 1-row AVX-512 tiles (the narrow and AVX2 tiles pack the at most 3 rows
// their edges leave and compute them whole into a scratch tile). The
// 12-row tile prefetches the next tile's rows of C and A's entries 16
// steps ahead, for products whose operands come from memory at a shallow
// inner dimension (K-FAC's rank-64 factor updates). Elsewhere, and when a BLAS other than gonum's own
// is registered with blas64.Use (the OpenBLAS build), they call blas64.
//
// The products agree with blas64.Gemm to rounding: the sums are the same
// but taken in another order (and with fused multiply-adds), so results
// may differ in the last bits. With a kernel, each entry of C is summed in
// the same order whatever the shape of the product (the narrow and wide
// tiles sum alike, each assembly kernel as its pure-Go twin kernelGo
// does), so a row of a product
// does not depend on how many other rows it is computed with: a network's
// output for one sample is the same bits alone or in a batch.
//
// On a Zen 4 core, in GFLOP per second of processor time (BenchmarkGemm),
// the AVX-512 kernel runs the benchmark network's products (256×128 by
// 128×128) at 52–54 against about 8 for gonum's pure-Go Dgemm, and those
// of a 784-512-512-10 network at batch 256 at 45–50; the core's peak (one
// 8-wide fused multiply-add per cycle), which the kernel reaches from L1,
// is 54–56.
//
// CorrForward and CorrGrad compute a convolution of stride 1 (a
// correlation: Corr) and its weight gradient from the input itself, without
// unfolding its patches into a matrix (im2col), which for a convolution of
// few channels copies more than the product computes. The AVX-512 tiles of
// corr_amd64.s hold 6 output channels by 4 vectors of 8 output locations
// (the outputs: each step loads the 4 vectors' inputs for one patch entry
// through a table of offsets and broadcasts 6 weights) or 6 channels by 4
// patch entries (the weight gradient: 8 running sums per pair over the
// locations, the output gradients read whole and the inputs in place). On
// the LeNet-style benchmark network's convolutions they run at 43–52
// GFLOP/s (BenchmarkCorr); the first one's forward and backward passes take
// a quarter of the time they take unfolded and multiplied
// (BenchmarkConv2dPaths in curvature/nn). Each has a pure-Go twin that
// gives its bits, which runs where there is no AVX-512 (where unfolding and
// Gemm are faster: HasCorr says which).
package gemm
