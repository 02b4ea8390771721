package approx

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/cputime"
	"github.com/curvkit/curvkit/internal/randmat"
)

// cpuTimer reports the CPU time per operation of the timed loop when its
// result is called after the loop.
func cpuTimer(b *testing.B) func() {
	b.ResetTimer()
	start := cputime.Process()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
	}
}

// benchShapes are the K-FAC blocks of the 64-128-128-10 perceptron.
var benchShapes = LayerShapes(64, 128, 128, 10)

// benchKFAC returns a K-FAC with factors as a network would give them: A =
// mean of ā āᵀ over a batch of 256 augmented inputs, G = mean of δ δᵀ, plus
// 1e-3·I.
func benchKFAC(b *testing.B, seed uint64, s *KFACSettings) *KFAC {
	rnd := rand.New(rand.NewPCG(seed, 2))
	gs, as := make([]mat.Symmetric, len(benchShapes)), make([]mat.Symmetric, len(benchShapes))
	for l, sh := range benchShapes {
		gs[l], as[l] = sampleCov(rnd, sh.G, 256), sampleCov(rnd, sh.A, 256)
	}
	return kfacOfFactors(b, gs, as, s)
}

func sampleCov(rnd *rand.Rand, n, N int) *mat.SymDense {
	x := randDense(rnd, N, n)
	s := mat.NewSymDense(n, nil)
	s.SymOuterK(1/float64(N), x.T())
	for i := 0; i < n; i++ {
		s.SetSym(i, i, s.At(i, i)+1e-3)
	}
	return s
}

// benchSolve times k's damped solve of g at λ = lambda, in CPU time per
// solve, after a first solve that caches the factorisations.
func benchSolve(b *testing.B, k *KFAC, g []float64, lambda float64) {
	dst := make([]float64, len(g))
	if err := k.SolveDampedTo(dst, g, lambda); err != nil {
		b.Fatal(err)
	}
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		if err := k.SolveDampedTo(dst, g, lambda); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

func benchmarkKFACPrecondition(b *testing.B, s KFACSettings) {
	k := benchKFAC(b, 1, &s)
	benchSolve(b, k, randmat.Vec(newRand(2), k.Dim()), 1e-2)
	b.ReportMetric(float64(k.Dim()*k.Dim())/float64(k.Floats()), "dense/kfac-floats")
}

func BenchmarkKFACPreconditionExactEigen(b *testing.B) {
	benchmarkKFACPrecondition(b, KFACSettings{})
}
func BenchmarkKFACPreconditionFactoredEigen(b *testing.B) {
	benchmarkKFACPrecondition(b, KFACSettings{Damping: FactoredDamping})
}
func BenchmarkKFACPreconditionFactoredCholesky(b *testing.B) {
	benchmarkKFACPrecondition(b, KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver})
}

func benchmarkKFACMulVec(b *testing.B) {
	k := benchKFAC(b, 1, nil)
	v := randmat.Vec(newRand(2), k.Dim())
	dst := make([]float64, k.Dim())
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		k.MulVecTo(dst, v)
	}
	done()
}

func BenchmarkKFACMulVec(b *testing.B) { benchmarkKFACMulVec(b) }

// benchmarkKFACRefresh measures the work of refreshing the factorisations
// after new statistics, in place: all eigendecompositions (exact or
// factored damping, any λ afterwards) or the inverses of the damped factors
// for one λ.
func benchmarkKFACRefresh(b *testing.B, s KFACSettings) {
	k := benchKFAC(b, 1, &s)
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		if err := k.Factorize(1e-2); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

func BenchmarkKFACRefreshEigen(b *testing.B) {
	benchmarkKFACRefresh(b, KFACSettings{Damping: FactoredDamping})
}
func BenchmarkKFACRefreshCholesky(b *testing.B) {
	benchmarkKFACRefresh(b, KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver})
}

// benchmarkTONGA adds a gradient of the 64-128-128-10 network to a
// per-neuron TONGA (266 blocks) and computes the natural gradient.
func benchmarkTONGA(b *testing.B) {
	var sizes []int
	for _, sh := range benchShapes {
		for o := 0; o < sh.G; o++ {
			sizes = append(sizes, sh.A)
		}
	}
	t, err := NewTONGA(Ranges(sizes...), nil)
	if err != nil {
		b.Fatal(err)
	}
	rnd := newRand(4)
	n := t.Dim()
	grads := make([][]float64, 16)
	for i := range grads {
		grads[i] = randmat.Vec(rnd, n)
	}
	dst := make([]float64, n)
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		if err := t.Add(grads[i%len(grads)]); err != nil {
			b.Fatal(err)
		}
		if err := t.NaturalGradientTo(dst, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

func BenchmarkTONGAStep(b *testing.B) { benchmarkTONGA(b) }

// benchmarkSymMatrixMulVec times a dense symmetric product of order 1058
// (a 1,058-parameter model's curvature, as examples/export compares):
// SymMatrix's row-wise product against mat's symmetric product.
func benchmarkSymMatrixMulVec(b *testing.B, ours bool) {
	m := randSPD(newRand(1), 1058, 0)
	s, err := NewSymMatrix(m, 0)
	if err != nil {
		b.Fatal(err)
	}
	v, dst := randmat.Vec(newRand(2), 1058), make([]float64, 1058)
	for b.Loop() {
		if ours {
			s.MulVecTo(dst, v)
		} else {
			mat.NewVecDense(1058, dst).MulVec(m, mat.NewVecDense(1058, v))
		}
	}
}

func BenchmarkSymMatrixMulVec(b *testing.B)    { benchmarkSymMatrixMulVec(b, true) }
func BenchmarkSymMatrixMulVecMat(b *testing.B) { benchmarkSymMatrixMulVec(b, false) }
