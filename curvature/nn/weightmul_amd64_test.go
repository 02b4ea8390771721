//go:build amd64 && !purego

package nn

import (
	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// sameBitsKernel reports whether internal/gemm runs one of its kernels
// here, which sum each entry in the same order in either orientation.
func sameBitsKernel() bool {
	_, own := blas64.Implementation().(gonum.Implementation)
	return own && (cpu.X86.HasAVX512F || cpu.X86.HasAVX2 && cpu.X86.HasFMA)
}
