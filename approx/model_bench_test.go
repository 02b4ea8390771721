package approx

import (
	"fmt"
	"testing"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/benchnet"
)

// The network benchmarks run on the 64-128-128-10 tanh perceptron with the
// softmax cross-entropy on the first 256 digits, so that their ns/op
// compare with BenchmarkNetGradient's in one run:
//
//	go test ./approx -run '^$' -bench 'Net' -benchtime 20x

// benchNet returns the model, a fixed θ and the batch.
func benchNet(b *testing.B) (*curvature.Model, []float64, curvature.Batch) {
	b.Helper()
	net, theta, x, y, err := benchnet.DigitsMLP([]int{64, 128, 128, 10}, []string{"tanh", "tanh", "identity"}, 256)
	if err != nil {
		b.Fatal(err)
	}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, curvature.Batch{X: x, Y: y}
}

// benchmarkNetGradient: one forward and backward pass for the mean
// gradient, the unit of the other benchmarks.
func benchmarkNetGradient(b *testing.B) {
	m, theta, batch := benchNet(b)
	t := nn.NewTape(m.Net, m.Loss)
	grad := make([]float64, len(theta))
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		t.Forward(theta, batch.X)
		t.Backward(grad, nil, batch.Y)
	}
	done()
}

// benchmarkNetKFACFactors: a K-FAC statistics update, Update with one
// sampled label per input (forward pass, sampled backward pass, A and G, in
// place), and the memory of the factors against the dense matrix.
func benchmarkNetKFACFactors(b *testing.B, kind FactorKind) {
	m, theta, batch := benchNet(b)
	k, err := NewKFAC(m.Net, &KFACSettings{Factors: kind, Rand: newRand(2)})
	if err != nil {
		b.Fatal(err)
	}
	t := nn.NewTape(m.Net, m.Loss)
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		t.Forward(theta, batch.X)
		if err := k.Update(t, batch.Y, 0); err != nil {
			b.Fatal(err)
		}
	}
	done()
	shapes, err := NetworkShapes(m.Net)
	if err != nil {
		b.Fatal(err)
	}
	P, kf := len(theta), 0
	for l, sh := range shapes {
		f := sh.G*sh.G + sh.A*sh.A
		b.ReportMetric(float64(f), fmt.Sprintf("L%d-kfac-floats", l))
		b.ReportMetric(float64(sh.G*sh.A*sh.G*sh.A), fmt.Sprintf("L%d-block-floats", l))
		kf += f
	}
	b.ReportMetric(float64(kf), "kfac-floats")
	b.ReportMetric(float64(P*P), "dense-floats")
}

// benchNetKFAC returns the K-FAC of the network's Monte-Carlo factors and
// the batch gradient.
func benchNetKFAC(b *testing.B, s KFACSettings) (*KFAC, []float64) {
	m, theta, batch := benchNet(b)
	s.Factors, s.Seed = MCFactors, 2
	k, err := ModelKFAC(m, theta, batch, &s)
	if err != nil {
		b.Fatal(err)
	}
	t := nn.NewTape(m.Net, m.Loss)
	grad := make([]float64, len(theta))
	t.Forward(theta, batch.X)
	t.Backward(grad, nil, batch.Y)
	return k, grad
}

// benchmarkNetKFACPrecondition: (G⊗A + λI)⁻¹g or the factored-damping
// inverse applied to the gradient, the factors already decomposed.
func benchmarkNetKFACPrecondition(b *testing.B, s KFACSettings) {
	k, grad := benchNetKFAC(b, s)
	benchSolve(b, k, grad, 1e-3)
}

// benchmarkNetKFACEigen: the eigendecompositions of all factors, which
// EKFAC's basis (and K-FAC's exact damping) needs after each factor
// update.
func benchmarkNetKFACEigen(b *testing.B) {
	k, _ := benchNetKFAC(b, KFACSettings{})
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		if err := k.Factorize(0); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// benchmarkNetEKFAC: everything of an EKFAC refresh, ModelEKFAC: forward
// pass, backward passes, factors, eigendecompositions and scales.
func benchmarkNetEKFAC(b *testing.B, kind FactorKind) {
	m, theta, batch := benchNet(b)
	ks := &KFACSettings{Factors: kind, Rand: newRand(3)}
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		if _, err := ModelEKFAC(m, theta, batch, ks); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// benchmarkNetTONGA: per-sample gradients of the batch fed to a
// per-neuron TONGA (266 blocks), then the natural gradient.
func benchmarkNetTONGA(b *testing.B) {
	m, theta, batch := benchNet(b)
	f, err := NewTONGAFeed(m, PerNeuron, nil)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, len(theta))
	done := cpuTimer(b)
	for i := 0; i < b.N; i++ {
		if err := f.Add(theta, batch); err != nil {
			b.Fatal(err)
		}
		if err := f.TONGA().NaturalGradientTo(dst, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

func BenchmarkNetGradient(b *testing.B)         { benchmarkNetGradient(b) }
func BenchmarkNetKFACFactorsMC(b *testing.B)    { benchmarkNetKFACFactors(b, MCFactors) }
func BenchmarkNetKFACFactorsExact(b *testing.B) { benchmarkNetKFACFactors(b, ExactFactors) }
func BenchmarkNetKFACPreconditionExact(b *testing.B) {
	benchmarkNetKFACPrecondition(b, KFACSettings{})
}
func BenchmarkNetKFACPreconditionCholesky(b *testing.B) {
	benchmarkNetKFACPrecondition(b, KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver})
}
func BenchmarkNetKFACEigen(b *testing.B)   { benchmarkNetKFACEigen(b) }
func BenchmarkNetEKFACMC(b *testing.B)     { benchmarkNetEKFAC(b, MCFactors) }
func BenchmarkNetEKFACExact(b *testing.B)  { benchmarkNetEKFAC(b, ExactFactors) }
func BenchmarkNetTONGANeuron(b *testing.B) { benchmarkNetTONGA(b) }
