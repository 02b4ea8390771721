//go:build !amd64 || purego

package nn

// sameBitsKernel reports false: without internal/gemm's kernels the
// products are blas64's, whose order of summation may depend on the shape.
func sameBitsKernel() bool { return false }
