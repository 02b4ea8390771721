package gemm

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// BenchmarkGemmCurvature runs the products of the dense curvature assembly
// (curvature's BenchmarkDenseMLP) on the 64-128-128-10 network at batch
// 256: ā_lᵀ K, the 129 (or 65) inputs of a layer by 240 columns of K with
// inner dimension 256, and a 132-row slab of a Gram matrix of per-sample
// gradients, both transposed-by-plain as the assembly calls them. Its
// GFLOP/s are the kernel's rate that the assembly's time is measured
// against.
func BenchmarkGemmCurvature(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{{129, 240, 256}, {65, 240, 256}, {132, 240, 256}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			benchGemm(b, Gemm, blas.Trans, blas.NoTrans, s.m, s.n, s.k)
		})
	}
}
