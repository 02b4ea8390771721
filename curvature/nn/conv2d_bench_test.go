package nn_test

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// The convolutions of a LeNet-style network on 28×28 inputs, batch 128,
// against Dense layers of (nearly) the same multiply-adds per sample,
// p·q·R: 6·26·576 = 89,856 against 300·300 = 90,000 for the first layer,
// 16·151·64 = 154,624 against 393·393 = 154,449 for the second. Each
// iteration is a forward pass and a backward pass to both the input and
// the parameters (three products); GFLOP/s counts 2·N·R·p·(2q + q−1).
var (
	lenetConv1 = nn.Conv2d{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}}
	lenetConv2 = nn.Conv2d{In: 6, Out: 16, H: 12, W: 12, Kernel: [2]int{5, 5}}
)

func BenchmarkConv2dLeNet1(b *testing.B)        { benchLayer(b, lenetConv1, true) }
func BenchmarkDenseAsConv2dLeNet1(b *testing.B) { benchLayer(b, nn.Dense{In: 299, Out: 300}, true) }
func BenchmarkConv2dLeNet2(b *testing.B)        { benchLayer(b, lenetConv2, true) }
func BenchmarkDenseAsConv2dLeNet2(b *testing.B) { benchLayer(b, nn.Dense{In: 392, Out: 393}, true) }

// The first layer of a network needs no input gradient.
func BenchmarkConv2dLeNet1NoInputGrad(b *testing.B) { benchLayer(b, lenetConv1, false) }

func benchLayer(b *testing.B, l nn.Kronecker, inputGrad bool) {
	const n = 128
	rng := rand.New(rand.NewPCG(1, 1))
	theta := randSlice(l.NumParams(), rng)
	x := randDense(n, l.InSize(), rng)
	g := randDense(n, l.OutSize(), rng)
	y := mat.NewDense(n, l.OutSize(), nil)
	dtheta := make([]float64, l.NumParams())
	var dx *mat.Dense
	p, q, r := l.KronShape()
	flops := 2 * float64(n*r*p) * float64(2*q)
	if inputGrad {
		dx = mat.NewDense(n, l.InSize(), nil)
		flops += 2 * float64(n*r*p) * float64(q-1)
	}
	for b.Loop() {
		l.Forward(y, x, theta)
		l.VJP(dx, dtheta, x, y, theta, g)
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkAvgPool2dLeNet is the forward and backward pass of the
// LeNet-style network's first pooling layer, 6×24×24 to 6×12×12, batch 128.
func BenchmarkAvgPool2dLeNet(b *testing.B) {
	p := nn.AvgPool2d{C: 6, H: 24, W: 24, Kernel: [2]int{2, 2}}
	rng := rand.New(rand.NewPCG(1, 1))
	x, g := randDense(128, p.InSize(), rng), randDense(128, p.OutSize(), rng)
	y, dx := mat.NewDense(128, p.OutSize(), nil), mat.NewDense(128, p.InSize(), nil)
	for b.Loop() {
		p.Forward(y, x, nil)
		p.VJP(dx, nil, x, y, nil, g)
	}
}
