package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The shapes of one training step of the 64-128-128-10 benchmark network
// on a batch of 256 (forward x·Wᵀ, backward g·W and gᵀ·x) and of K-FAC's
// preconditioning (G⁻¹·X, then ·A⁻¹).
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"forward/256x128x128", blas.NoTrans, blas.Trans, 256, 128, 128},
	{"backward-dx/256x128x128", blas.NoTrans, blas.NoTrans, 256, 128, 128},
	{"backward-dW/128x128x256", blas.Trans, blas.NoTrans, 128, 128, 256},
	{"forward/256x10x128", blas.NoTrans, blas.Trans, 256, 10, 128},
	{"forward/64x128x128", blas.NoTrans, blas.Trans, 64, 128, 128},
	{"precondition/128x129x129", blas.NoTrans, blas.NoTrans, 128, 129, 129},
	{"square/512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes {
		for _, impl := range []struct {
			name string
			f    func(blas.Transpose, blas.Transpose, float64, blas64.General, blas64.General, float64, blas64.General)
		}{{"curvkit", Gemm}, {"gonum", blas64.Gemm}} {
			b.Run(fmt.Sprintf("%s/%s", s.name, impl.name), func(b *testing.B) { benchGemm(b, impl.f, s.tA, s.tB, s.m, s.n, s.k) })
		}
	}
}

func benchGemm(b *testing.B, f func(blas.Transpose, blas.Transpose, float64, blas64.General, blas64.General, float64, blas64.General), tA, tB blas.Transpose, m, n, k int) {
	a, bm, c := operands(rand.New(rand.NewPCG(1, 1)), tA, tB, m, n, k, 0)
	b.SetBytes(0)
	for b.Loop() {
		f(tA, tB, 1, a, bm, 0, c)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
