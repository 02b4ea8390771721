//go:build !amd64 || purego

package gemm

// Without assembly, CorrForward and CorrGrad run their pure-Go twins.
var (
	corrFwdKernel corrFwdFunc
	corrDotKernel corrDotFunc
)
