package curvature

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/cputime"
)

// benchMLP is benchFixture's network, batch and loss with hidden width h:
// 64-h-h-10.
func benchMLP(b *testing.B, h int) fixture {
	b.Helper()
	f := benchFixture(b)
	net, err := nn.NewMLP([]int{64, h, h, 10}, []string{"tanh", "tanh", "identity"})
	if err != nil {
		b.Fatal(err)
	}
	f.m.Net, f.theta = net, make([]float64, net.NumParams())
	net.Init(f.theta, rand.New(rand.NewPCG(1, 1)))
	return f
}

// BenchmarkDenseMLP builds dense matrices of the benchmark network at
// hidden widths 32 (3,466 parameters, a 96 MB matrix) and 128 (26,122
// parameters, 5.46 GB) with 1 and 2 workers; B/op is every byte allocated,
// the matrix included, GFLOP/s the rate of the assembly's matrix products
// (assemblyFlops) over the whole time, and cpu-ns/op the processor time of
// the process, every goroutine's, per matrix. The wide network takes
// seconds and gigabytes per matrix: run it alone with -benchtime 1x
// (docs/benchmarks.md).
func BenchmarkDenseMLP(b *testing.B) { benchDenseMLP(b, false) }

// BenchmarkDenseMLPTo is BenchmarkDenseMLP building into the same matrix
// each time with Model.DenseTo, as a loop of Newton steps would: without
// the operating system's first touch of fresh pages, which on the
// benchmark machines costs seconds for 5.46 GB.
func BenchmarkDenseMLPTo(b *testing.B) { benchDenseMLP(b, true) }

func benchDenseMLP(b *testing.B, reuse bool) {
	for _, h := range []int{32, 128} {
		f := benchMLP(b, h)
		for _, kind := range []Kind{GGN, Hessian, EmpiricalFisher} {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("64-%d-%d-10/%v/workers=%d", h, h, kind, w), func(b *testing.B) {
					b.ReportAllocs()
					opt := &Options{Workers: w, Budget: Unlimited}
					var dst mat.SymDense
					if reuse {
						if err := f.m.DenseTo(&dst, kind, f.theta, f.b, opt); err != nil {
							b.Fatal(err)
						}
						b.ResetTimer()
					}
					cpu := cputime.Process()
					for b.Loop() {
						var err error
						if reuse {
							err = f.m.DenseTo(&dst, kind, f.theta, f.b, opt)
						} else {
							_, err = f.m.Dense(kind, f.theta, f.b, opt)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					cpu = cputime.Process() - cpu
					flops := assemblyFlops(f.m.Net, f.b.Len(), kind)
					b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
					b.ReportMetric(flops/1e9, "GFLOP")
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkFreshMatrix allocates the benchmark network's P×P matrix at
// hidden widths 32 and 128 as Dense does and writes its upper triangle
// once, row by row: what a dense result costs before any product, most of
// it the operating system's first touch of the pages (run alone with
// -benchtime 1x).
func BenchmarkFreshMatrix(b *testing.B) {
	for _, h := range []int{32, 128} {
		P := benchMLP(b, h).m.Net.NumParams()
		b.Run(fmt.Sprintf("64-%d-%d-10", h, h), func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				raw := newResult(P, pool{workers: 1}).RawSymmetric()
				for i := 0; i < P; i++ {
					fill(raw.Data[i*raw.Stride+i:i*raw.Stride+P], 1)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// assemblyFlops counts the floating-point operations of the matrix
// products that Dense makes for an MLP and a batch of n ≤ chunk samples:
// for the Hessian and GGN the products carrying M_s down the layers
// (2nko(k+o) per layer), D(m, l)ᵀ and J_{m−1←l}ᵀ down from each layer, and
// ā_lᵀK per neuron of layer l (2 q_l n per column, the columns of block
// (l, m), from the neuron's own onwards when l = m); for the empirical
// Fisher the Gram matrix's slabs, 2n per entry of each slab from its
// diagonal on.
func assemblyFlops(net *nn.Network, n int, kind Kind) float64 {
	s, _ := mlpOf(net)
	var f float64
	switch kind {
	case Hessian, GGN, Fisher:
		M := len(s.dense)
		for m := M - 1; m > 0; m-- {
			k, o := s.out[m], s.in[m]
			f += float64(2 * n * k * o * (k + o))
		}
		for m := 0; m < M; m++ {
			size := s.out[m] * s.q[m]
			for l := m; l >= 0; l-- {
				if l < m {
					f += float64(2 * s.out[l] * s.out[l+1] * n * s.out[m])
					if kind == Hessian && l < m-2 {
						f += float64(2 * s.out[l] * s.out[l+1] * n * s.in[m])
					}
				}
				for o2 := 0; o2 < s.out[l]; o2++ {
					cols := size
					if l == m {
						cols -= o2 * s.q[m]
					}
					f += float64(2 * s.q[l] * n * cols)
				}
			}
		}
	default:
		size := net.NumParams()
		slab := gramSlabOf(n)
		for r0 := 0; r0 < size; r0 += slab {
			f += float64(2 * n * min(slab, size-r0) * (size - r0))
		}
	}
	return f
}
