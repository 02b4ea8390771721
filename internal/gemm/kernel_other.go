//go:build !amd64 || purego

package gemm

// tilings is empty: without a micro-kernel every product goes to blas64.
var tilings []*tiling
