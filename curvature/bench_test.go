package curvature

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	_ "github.com/curvkit/curvkit/curvature/openblas" // OpenBLAS with -tags openblas
	"github.com/curvkit/curvkit/internal/benchnet"
	"github.com/curvkit/curvkit/internal/cputime"
)

// The benchmark network of docs/benchmarks.md: digits, MLP 64-32-32-10
// tanh, softmax cross-entropy, batch 256, float64 (3,466 parameters), the
// same network ../shared/bench/torch_peer.py times in PyTorch.
func benchFixture(b *testing.B) fixture {
	b.Helper()
	net, theta, x, y, err := benchnet.DigitsMLP([]int{64, 32, 32, 10}, []string{"tanh", "tanh", "identity"}, 256)
	if err != nil {
		b.Fatal(err)
	}
	return fixture{Model{net, nn.SoftmaxCrossEntropy{}}, theta, Batch{X: x, Y: y}}
}

func BenchmarkGradient(b *testing.B)           { benchProduct(b, benchFixture(b), gradient) }
func BenchmarkHessVec(b *testing.B)            { benchProduct(b, benchFixture(b), hessVec) }
func BenchmarkGGNVec(b *testing.B)             { benchProduct(b, benchFixture(b), ggnVec) }
func BenchmarkPerSampleGradients(b *testing.B) { benchProduct(b, benchFixture(b), perSample) }

// productSizes are the networks of ../shared/bench/torch_peer.py's
// comparisons, from the benchmark network to MNIST width.
var productSizes = [][]int{
	{64, 32, 32, 10},
	{64, 128, 128, 10},
	{64, 512, 512, 10},
	{784, 256, 10},
	{784, 512, 512, 10},
}

// sizedFixture is the peer's network of the given sizes (10 outputs):
// tanh hidden layers, a linear output, softmax cross-entropy, batch 256;
// the digits when the input is 64 wide, else seeded standard-normal inputs
// and uniform labels, as the peer draws them.
func sizedFixture(b *testing.B, sizes []int) fixture {
	b.Helper()
	acts := make([]string, len(sizes)-1)
	for i := range acts {
		acts[i] = "tanh"
	}
	acts[len(acts)-1] = "identity"
	const n = 256
	if sizes[0] == 64 {
		net, theta, x, y, err := benchnet.DigitsMLP(sizes, acts, n)
		if err != nil {
			b.Fatal(err)
		}
		return fixture{Model{net, nn.SoftmaxCrossEntropy{}}, theta, Batch{X: x, Y: y}}
	}
	net, err := nn.NewMLP(sizes, acts)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	in, out := sizes[0], sizes[len(sizes)-1]
	batch := Batch{X: mat.NewDense(n, in, nil), Y: mat.NewDense(n, 1, nil)}
	for i := range n {
		for j := range in {
			batch.X.Set(i, j, rng.NormFloat64())
		}
		batch.Y.Set(i, 0, float64(rng.IntN(out)))
	}
	return fixture{Model{net, nn.SoftmaxCrossEntropy{}}, theta, batch}
}

// BenchmarkProducts times every product on each network of productSizes,
// named by its sizes (64-512-512-10/hvp).
func BenchmarkProducts(b *testing.B) {
	for _, sizes := range productSizes {
		f := sizedFixture(b, sizes)
		name := strings.Trim(strings.ReplaceAll(fmt.Sprint(sizes), " ", "-"), "[]")
		for k := range numProducts {
			b.Run(name+"/"+productNames[k], func(b *testing.B) { benchProduct(b, f, k) })
		}
	}
}

// The products the benchmarks time. HVP and GGN·v include their own
// forward (and, for the HVP, backward) pass, so they compare with a
// gradient like for like; the per-sample gradients come with the mean
// gradient, in the same backward pass.
const (
	gradient = iota
	hessVec
	ggnVec
	perSample
	numProducts
)

var productNames = [numProducts]string{"grad", "hvp", "ggnvp", "per-sample"}

// products holds a tape and the buffers of every product on one fixture.
type products struct {
	f        fixture
	t        *nn.Tape
	v, g, hv []float64
	per      *mat.Dense
}

func newProducts(f fixture) *products {
	p := len(f.theta)
	return &products{f: f, t: nn.NewTape(f.m.Net, f.m.Loss), v: randVec(p), g: make([]float64, p),
		hv: make([]float64, p), per: mat.NewDense(f.b.Len(), p, nil)}
}

// run computes product k once, from the forward pass on.
func (p *products) run(k int) {
	f, t := p.f, p.t
	t.Forward(f.theta, f.b.X)
	switch k {
	case gradient:
		t.Backward(p.g, nil, f.b.Y)
	case hessVec:
		t.Backward(nil, nil, f.b.Y)
		t.HessVec(p.hv, p.v)
	case ggnVec:
		t.SetTargets(f.b.Y)
		t.GGNVec(p.hv, p.v)
	case perSample:
		t.Backward(p.g, p.per, f.b.Y)
	}
}

// benchProduct times product k, reporting the CPU time per product too.
func benchProduct(b *testing.B, f fixture, k int) {
	p := newProducts(f)
	p.run(k)
	start := cputime.Process()
	for b.Loop() {
		p.run(k)
	}
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
}

// benchRatios runs each product in turn, so that all of them see the same
// machine load, and reports each one's total time over the gradient's.
func benchRatios(b *testing.B, f fixture) {
	p := newProducts(f)
	var total [numProducts]time.Duration
	for b.Loop() {
		for k := range numProducts {
			t0 := time.Now()
			p.run(k)
			total[k] += time.Since(t0)
		}
	}
	for k := hessVec; k < numProducts; k++ {
		b.ReportMetric(float64(total[k])/float64(total[gradient]), productNames[k]+"/grad")
	}
	b.ReportMetric(float64(total[gradient].Microseconds())/float64(b.N), "grad-µs")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkDenseHessian(b *testing.B) { benchDense(b, Hessian) }

func BenchmarkDenseGGN(b *testing.B) { benchDense(b, GGN) }

func BenchmarkDenseEmpiricalFisher(b *testing.B) { benchDense(b, EmpiricalFisher) }

func benchDense(b *testing.B, k Kind) {
	f := benchFixture(b)
	for b.Loop() {
		if _, err := f.m.Dense(k, f.theta, f.b, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func randVec(n int) []float64 {
	rng := rand.New(rand.NewPCG(2, 2))
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func BenchmarkDenseHessianOneWorker(b *testing.B) {
	f := benchFixture(b)
	for b.Loop() {
		if _, err := f.m.Dense(Hessian, f.theta, f.b, &Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOperatorMulVec times a product of Model.Operator's operator,
// which takes a mutex so that goroutines may share it, beside the same
// product called without the lock: the price of the lock on one
// goroutine.
func BenchmarkOperatorMulVec(b *testing.B) {
	f := benchFixture(b)
	for _, kind := range []Kind{Hessian, GGN, EmpiricalFisher} {
		op, err := f.m.Operator(kind, f.theta, f.b, nil)
		if err != nil {
			b.Fatal(err)
		}
		var unlocked func(dst, v []float64)
		switch o := op.(type) {
		case *netOp:
			unlocked = o.mul
		case *gramOp:
			unlocked = o.mul
		}
		v, dst := randVec(len(f.theta)), make([]float64, len(f.theta))
		b.Run(kind.String()+"/shared", func(b *testing.B) {
			for b.Loop() {
				op.MulVecTo(dst, v)
			}
		})
		b.Run(kind.String()+"/unlocked", func(b *testing.B) {
			for b.Loop() {
				unlocked(dst, v)
			}
		})
	}
}
