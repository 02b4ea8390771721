package gemm

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/curvkit/curvkit/internal/cputime"
)

// The products of the dense curvature assembly (curvature's
// BenchmarkDenseMLP) of the 64-128-128-10 network at batch 256: ā_lᵀK, the
// 129 (or 65) inputs of a layer by 240 columns of K with inner dimension
// 256, and a 504-row slab of a Gram matrix of per-sample gradients by 64
// of its columns.
var curvatureShapes = []benchShape{
	{"kronecker/129x240x256", blas.Trans, blas.NoTrans, 129, 240, 256},
	{"kronecker/65x240x256", blas.Trans, blas.NoTrans, 65, 240, 256},
	{"gram/504x64x256", blas.NoTrans, blas.Trans, 504, 64, 256},
}

// BenchmarkGemmCurvature times the assembly's products one at a time and,
// as its workers run them, one per goroutine on GOMAXPROCS goroutines at
// once (parallel: GFLOP/s of all of them together). Their GFLOP/s are the
// kernel's rate that the assembly's time is measured against; cpu-ns/op is
// the processor time per product, every goroutine's (for the rate per
// processor-second where other processes' load moves the wall time).
func BenchmarkGemmCurvature(b *testing.B) {
	for _, s := range curvatureShapes {
		b.Run(s.name, func(b *testing.B) {
			cpu := cputime.Process()
			benchGemm(b, Gemm, s.tA, s.tB, s.m, s.n, s.k)
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run(s.name+"/parallel", func(b *testing.B) {
			cpu := cputime.Process()
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				a, bm, c := operands(rand.New(rand.NewPCG(seed.Add(1), 1)), s.tA, s.tB, s.m, s.n, s.k, 0)
				for pb.Next() {
					Gemm(s.tA, s.tB, 1, a, bm, 0, c)
				}
			})
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
