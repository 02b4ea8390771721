package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/gemm"
)

// mulWeights against the product summed entry by entry (to 1e-12
// relative), and against gemm.Gemm's direct product of the same operands,
// which it must match bit for bit where the kernel runs (sameBitsKernel):
// in both orientations, with β 0 and 1, for strided views such as Dense's
// weights (stride In+1), and for shapes on both sides of transposeWins.
func TestMulWeights(t *testing.T) {
	cases := []struct {
		n, k, m    int
		transposed bool
	}{
		{n: 1, k: 30, m: 250, transposed: true},
		{n: 7, k: 100, m: 90, transposed: true},
		{n: 64, k: 1000, m: 784, transposed: true},
		{n: 13, k: 5, m: 300, transposed: false},
		{n: 300, k: 40, m: 60, transposed: false},
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range cases {
		require.Equal(t, c.transposed, transposeWins(c.n, c.m, c.k), "case %v", c)
		for _, tW := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, beta := range []float64{0, 1} {
				name := fmt.Sprintf("n=%d,k=%d,m=%d,trans=%v,beta=%v", c.n, c.k, c.m, tW == blas.Trans, beta)
				t.Run(name, func(t *testing.T) {
					a := randomDense(c.n, c.k, rng)
					wr, wc := c.k, c.m
					if tW == blas.Trans {
						wr, wc = wc, wr
					}
					// A view of one column fewer than its storage, as a Dense
					// layer's W in [W | b].
					w := randomDense(wr, wc+1, rng).Slice(0, wr, 0, wc).(*mat.Dense)
					c0 := randomDense(c.n, c.m, rng)
					got, direct := mat.DenseCopyOf(c0), mat.DenseCopyOf(c0)
					mulWeights(tW, a.RawMatrix(), w.RawMatrix(), beta, got.RawMatrix())
					gemm.Gemm(blas.NoTrans, tW, 1, a.RawMatrix(), w.RawMatrix(), beta, direct.RawMatrix())
					for i := 0; i < c.n; i++ {
						for j := 0; j < c.m; j++ {
							want, scale := beta*c0.At(i, j), math.Abs(beta*c0.At(i, j))
							for p := 0; p < c.k; p++ {
								var wv float64
								if tW == blas.Trans {
									wv = w.At(j, p)
								} else {
									wv = w.At(p, j)
								}
								want += a.At(i, p) * wv
								scale += math.Abs(a.At(i, p) * wv)
							}
							assert.InDelta(t, want, got.At(i, j), 1e-12*scale, "entry %d,%d", i, j)
							if sameBitsKernel() && got.At(i, j) != direct.At(i, j) {
								t.Fatalf("entry %d,%d: %v, the direct product %v", i, j, got.At(i, j), direct.At(i, j))
							}
						}
					}
				})
			}
		}
	}
}

// BenchmarkMulWeights times a·op(W) directly and transposed in the same
// loop, for the backward product g·W (op(W) = W) and the forward x·Wᵀ, on
// the MNIST autoencoder's widest weights (1000×784, K×M), 512×512 and the
// benchmark network's 128×128, at the rows K-FAC's statistics see (a
// quarter of 256 and of 1,000) and at whole batches, and reports the
// transposed product's speed over the direct one's ("speedup", > 1 when
// it is faster).
func BenchmarkMulWeights(b *testing.B) {
	for _, tW := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, s := range [][2]int{{1000, 784}, {512, 512}, {128, 128}} {
			k, m := s[0], s[1]
			for _, n := range []int{64, 250, 256, 1000} {
				name := fmt.Sprintf("%s/%dx%d/rows=%d", map[blas.Transpose]string{blas.NoTrans: "gW", blas.Trans: "xWt"}[tW], k, m, n)
				b.Run(name, func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 1))
					a := randomDense(n, k, rng).RawMatrix()
					w := randomDense(k, m, rng).RawMatrix()
					if tW != blas.NoTrans {
						w = randomDense(m, k, rng).RawMatrix()
					}
					tWt := blas.Trans
					if tW != blas.NoTrans {
						tWt = blas.NoTrans
					}
					dst := blas64.General{Rows: n, Cols: m, Stride: m, Data: make([]float64, n*m)}
					tr := blas64.General{Rows: m, Cols: n, Stride: n, Data: make([]float64, n*m)}
					var tDirect, tTrans time.Duration
					for b.Loop() {
						t0 := time.Now()
						gemm.Gemm(blas.NoTrans, tW, 1, a, w, 0, dst)
						t1 := time.Now()
						gemm.Gemm(tWt, blas.Trans, 1, w, a, 0, tr)
						transposeInto(dst, tr)
						tDirect += t1.Sub(t0)
						tTrans += time.Since(t1)
					}
					flops := 2 * float64(n*k*m) * float64(b.N)
					b.ReportMetric(flops/tDirect.Seconds()/1e9, "direct-GFLOP/s")
					b.ReportMetric(flops/tTrans.Seconds()/1e9, "transposed-GFLOP/s")
					b.ReportMetric(tDirect.Seconds()/tTrans.Seconds(), "speedup")
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
}
