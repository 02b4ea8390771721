package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/curvkit/curvkit/internal/cputime"
)

// benchShape is a product C = op(A) op(B), C m×n, inner dimension k.
type benchShape struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}

// The shapes of one training step of the 64-128-128-10 benchmark network
// on a batch of 256 (forward x·Wᵀ, backward g·W and gᵀ·x), of K-FAC's
// preconditioning (G⁻¹·X, then ·A⁻¹), and of the convolutions of the
// LeNet-style benchmark network: the first one's outputs at its 576
// locations from their 26-entry patches, for one sample and for the whole
// batch of 128 at once, and its weight gradient (products of 6 columns,
// which the narrow tile computes); the second one's outputs at its 64
// locations from 151-entry patches, for one sample and for a block of 3;
// and those of the 784-512-512-10 network at batch 256 (the 512-wide
// activations' rows alias in L1: a stride of 4 KiB).
var benchShapes = []benchShape{
	{"forward/256x128x128", blas.NoTrans, blas.Trans, 256, 128, 128},
	{"backward-dx/256x128x128", blas.NoTrans, blas.NoTrans, 256, 128, 128},
	{"backward-dW/128x128x256", blas.Trans, blas.NoTrans, 128, 128, 256},
	{"forward/256x10x128", blas.NoTrans, blas.Trans, 256, 10, 128},
	{"forward/64x128x128", blas.NoTrans, blas.Trans, 64, 128, 128},
	{"precondition/128x129x129", blas.NoTrans, blas.NoTrans, 128, 129, 129},
	{"square/512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
	{"conv1-forward/576x6x26", blas.Trans, blas.Trans, 576, 6, 26},
	{"conv1-forward-batch/73728x6x26", blas.Trans, blas.Trans, 128 * 576, 6, 26},
	{"conv1-weights/26x6x576", blas.NoTrans, blas.Trans, 26, 6, 576},
	{"conv2-forward/64x16x151", blas.Trans, blas.Trans, 64, 16, 151},
	{"conv2-forward-block/192x16x151", blas.Trans, blas.Trans, 3 * 64, 16, 151},
	{"mnist-forward1/256x512x784", blas.NoTrans, blas.Trans, 256, 512, 784},
	{"mnist-forward2/256x512x512", blas.NoTrans, blas.Trans, 256, 512, 512},
	{"mnist-backward2-dx/256x512x512", blas.NoTrans, blas.NoTrans, 256, 512, 512},
	{"mnist-backward1-dW/512x784x256", blas.Trans, blas.NoTrans, 512, 784, 256},
	{"mnist-forward3/256x10x512", blas.NoTrans, blas.Trans, 256, 10, 512},
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
	cpu := cputime.Process()
	for b.Loop() {
		f(tA, tB, 1, a, bm, 0, c)
	}
	flops := 2 * float64(m*n*k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// Per second of processor time: other processes' load moves it less.
	if d := cputime.Process() - cpu; d > 0 {
		b.ReportMetric(flops/d.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

// BenchmarkGemmNarrow runs the products of at most 8 columns of benchShapes
// with the narrow tile and with the wide one it replaces.
func BenchmarkGemmNarrow(b *testing.B) {
	if active == nil || active.narrow == nil {
		b.Skip("no narrow tile on this CPU or build")
	}
	saved := active
	defer func() { active = saved }()
	wide := *saved
	wide.narrow = nil
	for _, s := range benchShapes {
		if s.n > saved.narrow.nr {
			continue
		}
		for _, t := range []struct {
			name string
			t    *tiling
		}{{"narrow", saved}, {"wide", &wide}} {
			b.Run(fmt.Sprintf("%s/%s", s.name, t.name), func(b *testing.B) {
				active = t.t
				benchGemm(b, Gemm, s.tA, s.tB, s.m, s.n, s.k)
			})
		}
	}
}

// BenchmarkCorr runs CorrForward and CorrGrad on the convolutions of the
// LeNet-style benchmark network, batch 128: 1×28×28 inputs with 6 kernels
// of 5×5, then 6×12×12 inputs with 16.
func BenchmarkCorr(b *testing.B) {
	for _, cc := range []corrCase{{1, 28, 28, 5, 5, 0, 6, 128, 0}, {6, 12, 12, 5, 5, 0, 16, 128, 0}} {
		rng := rand.New(rand.NewPCG(1, 1))
		c, x, w := cc.corr(rng)
		oh, ow, k := c.dims()
		R := oh * ow
		g, y := randGeneral(rng, cc.n, cc.m*R, 0), randGeneral(rng, cc.n, cc.m*R, 0)
		d := make([]float64, cc.m*(k+1))
		flops := 2 * float64(cc.n*R*cc.m*k)
		b.Run(cc.String()+"/forward", func(b *testing.B) {
			for b.Loop() {
				CorrForward(c, y, w, k+1, cc.m, true, false, x)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(cc.String()+"/weights", func(b *testing.B) {
			for b.Loop() {
				CorrGrad(c, d, k+1, cc.m, false, g, x)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
