package approx

import (
	"fmt"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
	"github.com/curvkit/curvkit/internal/randmat"
)

// The width benchmarks time K-FAC's preconditioning and statistics on
// Martens & Grosse's (2015) MNIST autoencoder,
// 784-1000-500-250-30-250-500-1000-784 (2.8 million parameters), and
// internal/gemm on the same products in the same loop, so that each
// reports its rate in GFLOP/s beside the kernel's at those shapes:
//
//	go test ./approx -run '^$' -bench 'Width' -benchtime 20x -cpu 1,2
var (
	widthSizes = []int{784, 1000, 500, 250, 30, 250, 500, 1000, 784}
	widthActs  = []string{"sigmoid", "sigmoid", "sigmoid", "identity", "sigmoid", "sigmoid", "sigmoid", "identity"}
)

// product is one C = op(A) op(B) of internal/gemm, with its operands.
type product struct {
	tA, tB  blas.Transpose
	a, b, c blas64.General
}

func newProduct(tA, tB blas.Transpose, m, n, k int) product {
	rnd := newRand(uint64(m*n + k))
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	return product{tA: tA, tB: tB,
		a: randDense(rnd, ar, ac).RawMatrix(), b: randDense(rnd, br, bc).RawMatrix(), c: mat.NewDense(m, n, nil).RawMatrix()}
}

func (p product) run() { gemm.Gemm(p.tA, p.tB, 1, p.a, p.b, 0, p.c) }

func (p product) flops() float64 {
	k := p.a.Cols
	if p.tA != blas.NoTrans {
		k = p.a.Rows
	}
	return 2 * float64(p.c.Rows*p.c.Cols*k)
}

// squareProduct is the kernel's reference product, 1024×1024×1024: shaped for
// its tiles and blocks, it shows the rate the kernel reaches.
var squareProduct = newProduct(blas.NoTrans, blas.NoTrans, 1024, 1024, 1024)

// timeAgainst runs op, then the products, then the square product once per
// iteration and reports op's rate for flops floating-point operations, the
// products' rate at the same shapes ("gemm"), the square product's
// ("kernel"), and op's rate as a fraction of each, all measured in the
// same loop so that they see the same machine load.
func timeAgainst(b *testing.B, flops float64, op func(), prods []product) {
	var pf float64
	for _, p := range prods {
		pf += p.flops()
	}
	var tOp, tGemm, tSquare time.Duration
	for b.Loop() {
		t0 := time.Now()
		op()
		t1 := time.Now()
		for _, p := range prods {
			p.run()
		}
		t2 := time.Now()
		squareProduct.run()
		tOp += t1.Sub(t0)
		tGemm += t2.Sub(t1)
		tSquare += time.Since(t2)
	}
	n := float64(b.N)
	rate := func(f float64, t time.Duration) float64 { return f * n / t.Seconds() / 1e9 }
	op1, gemm1, kern := rate(flops, tOp), rate(pf, tGemm), rate(squareProduct.flops(), tSquare)
	b.ReportMetric(op1, "GFLOP/s")
	b.ReportMetric(gemm1, "gemm-GFLOP/s")
	b.ReportMetric(kern, "kernel-GFLOP/s")
	b.ReportMetric(op1/gemm1, "of-gemm")
	b.ReportMetric(op1/kern, "of-kernel")
	b.ReportMetric(flops/1e9, "GFLOP/op")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWidthPrecondition applies K-FAC's factored-damping inverse
// with the Cholesky solver, (G + √λ/π I)⁻¹ X (A + π√λ I)⁻¹ per layer:
// 2pq(p + q) flops for a p×q layer, 9.0 GFLOP in all. The reference is
// the same two products per layer.
func BenchmarkWidthPrecondition(b *testing.B) {
	shapes := LayerShapes(widthSizes...)
	rnd := newRand(1)
	gs, as := make([]mat.Symmetric, len(shapes)), make([]mat.Symmetric, len(shapes))
	var flops float64
	var prods []product
	for l, sh := range shapes {
		gs[l], as[l] = sampleCov(rnd, sh.G, 64), sampleCov(rnd, sh.A, 64)
		flops += 2 * float64(sh.G*sh.A*(sh.G+sh.A))
		prods = append(prods, newProduct(blas.NoTrans, blas.NoTrans, sh.G, sh.A, sh.G), newProduct(blas.NoTrans, blas.NoTrans, sh.G, sh.A, sh.A))
	}
	k := kfacOfFactors(b, gs, as, &KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver})
	g := randmat.Vec(newRand(2), k.Dim())
	dst := make([]float64, k.Dim())
	if err := k.SolveDampedTo(dst, g, 1e-2); err != nil { // inverts the damped factors
		b.Fatal(err)
	}
	timeAgainst(b, flops, func() {
		if err := k.SolveDampedTo(dst, g, 1e-2); err != nil {
			b.Fatal(err)
		}
	}, prods)
}

// BenchmarkWidthStats folds the Monte-Carlo statistics of a batch into
// the running factors (KFAC.Update with ε = 0.95 after a first update) on
// 64 and 250 rows, a quarter of batches of 256 and 1,000: the backward
// pass of the sampled labels and a symmetric rank-N update of each factor.
// Flops: N·q(q+1) + N·p(p+1) for the upper triangles of A (q×q) and G
// (p×p) of each layer, and 2·N·out·in for the gradients in each layer's
// inputs but the first's. The reference is the same products through
// gemm.Gemm, each factor's in full (2Nq², twice the flops of its upper
// triangle, counted as such).
func BenchmarkWidthStats(b *testing.B) {
	for _, n := range []int{64, 250} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			net, err := nn.NewMLP(widthSizes, widthActs)
			if err != nil {
				b.Fatal(err)
			}
			theta := make([]float64, net.NumParams())
			net.Init(theta, newRand(1))
			rnd := newRand(2)
			x := mat.NewDense(n, widthSizes[0], nil)
			for i := range x.RawMatrix().Data {
				x.RawMatrix().Data[i] = rnd.Float64()
			}
			k, err := NewKFAC(net, &KFACSettings{Factors: MCFactors, Seed: 3})
			if err != nil {
				b.Fatal(err)
			}
			t := nn.NewTape(net, nn.SigmoidBCE{})
			t.Forward(theta, x)
			if err := k.Update(t, x, 0); err != nil {
				b.Fatal(err)
			}
			var flops float64
			var prods []product
			for l := 1; l < len(widthSizes); l++ {
				in, out := widthSizes[l-1], widthSizes[l]
				q, p := in+1, out
				flops += float64(n) * float64(q*(q+1)+p*(p+1))
				prods = append(prods, newProduct(blas.Trans, blas.NoTrans, q, q, n), newProduct(blas.Trans, blas.NoTrans, p, p, n))
				if l > 1 {
					flops += 2 * float64(n*out*in)
					prods = append(prods, newProduct(blas.NoTrans, blas.NoTrans, n, in, out))
				}
			}
			// The full products count twice the flops of the triangles.
			timeAgainst(b, flops, func() {
				if err := k.Update(t, x, 0.95); err != nil {
					b.Fatal(err)
				}
			}, prods)
		})
	}
}

// BenchmarkWidthFactorDepth folds 256 rows into the first layer's factor A
// (1001×1001, upper triangle, ε = 0.95 on the old values) as four rank-64
// updates, what four steps' statistics on a quarter of a batch of 256 do,
// and as one rank-256 update, alternately in one loop: the same flops,
// with a quarter of the passes over the factor. It reports both rates and
// the second's over the first's ("gain").
func BenchmarkWidthFactorDepth(b *testing.B) {
	const rows, q = 256, 1001
	x := randDense(newRand(5), rows, q)
	c := mat.NewSymDense(q, nil)
	fold := func(k int) time.Duration {
		t0 := time.Now()
		for r := 0; r < rows; r += k {
			gemm.Syrk(blas.Trans, 1, x.Slice(r, r+k, 0, q).(*mat.Dense).RawMatrix(), 0.95, c.RawSymmetric())
		}
		return time.Since(t0)
	}
	var t64, t256 time.Duration
	for b.Loop() {
		t64 += fold(64)
		t256 += fold(256)
	}
	flops := float64(rows*q*(q+1)) * float64(b.N)
	b.ReportMetric(flops/t64.Seconds()/1e9, "rank64-GFLOP/s")
	b.ReportMetric(flops/t256.Seconds()/1e9, "rank256-GFLOP/s")
	b.ReportMetric(t64.Seconds()/t256.Seconds(), "gain")
	b.ReportMetric(0, "ns/op")
}
