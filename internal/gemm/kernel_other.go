//go:build !amd64 || purego

package gemm

const hasKernel = false

func kernel4x12(kc int, a, b, c *float64, ldc int, alpha, beta float64) {
	panic("gemm: no micro-kernel on this platform")
}
