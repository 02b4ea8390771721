package secondorder

import (
	"testing"
	"time"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	_ "github.com/curvkit/curvkit/curvature/openblas" // OpenBLAS with -tags openblas
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/internal/benchnet"
)

// The K-FAC benchmark network: digits, 64-128-128-10 tanh, softmax
// cross-entropy, batch 256. Both benchmarks include the forward and backward
// pass, so they compare whole training steps.
func kfacBenchSetup(b *testing.B) (*curvature.Model, []float64, curvature.Batch) {
	net, theta, x, y, err := benchnet.DigitsMLP([]int{64, 128, 128, 10}, []string{"tanh", "tanh", "identity"}, 256)
	if err != nil {
		b.Fatal(err)
	}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, curvature.Batch{X: x, Y: y}
}

// BenchmarkKFACStep is one K-FAC step amortised over its schedule:
// inverses every 20 steps, Monte-Carlo statistics every step on a quarter
// of the batch, the quadratic model's Fisher products on a quarter of the batch, damping updates every 5 steps.
func BenchmarkKFACStep(b *testing.B) { benchKFAC(b, 0.25) }

// BenchmarkKFACStepFullModel computes the quadratic model on the whole
// batch (Martens & Grosse's choice).
func BenchmarkKFACStepFullModel(b *testing.B) { benchKFAC(b, 1) }

func benchKFAC(b *testing.B, modelFraction float64) {
	m, theta, batch := kfacBenchSetup(b)
	opt, err := NewKFAC(m, &KFACSettings{ModelFraction: modelFraction})
	if err != nil {
		b.Fatal(err)
	}
	benchSteps(b, opt, theta, batch)
}

// BenchmarkAdamStep is one Adam step with its gradient.
func BenchmarkAdamStep(b *testing.B) {
	m, theta, batch := kfacBenchSetup(b)
	step := adamStepper(b, m, theta)
	for b.Loop() {
		step(theta, batch)
	}
}

// BenchmarkKFACOverAdam alternates one K-FAC step (as BenchmarkKFACStep)
// and one Adam step (as BenchmarkAdamStep) and reports the ratio of their
// total times: both see the same machine load, which on a shared machine
// moves separate benchmarks by ±20%. Both step from the same parameters,
// reset before each pair of steps, so that their forward passes cost the
// same (with math.Tanh, slower past |x| = 0.625, a forward pass at
// parameters K-FAC had trained cost up to 60% more than at the start; the
// vectorised tanh costs the same at every |x|).
func BenchmarkKFACOverAdam(b *testing.B) { benchKFACOverAdam(b, kfacBenchSetup, nil, true) }

// BenchmarkKFACOverAdamTrained is BenchmarkKFACOverAdam with each
// optimizer on its own trajectory, so that K-FAC's forward passes run at
// the parameters it has trained and Adam's (lr 1e-3) near the start.
func BenchmarkKFACOverAdamTrained(b *testing.B) { benchKFACOverAdam(b, kfacBenchSetup, nil, false) }

// benchSetup returns a benchmark's model, its initial parameters and its
// batch.
type benchSetup func(*testing.B) (*curvature.Model, []float64, curvature.Batch)

// benchKFACOverAdam alternates K-FAC steps with settings set (nil: the
// defaults) and Adam steps on the problem setup returns.
func benchKFACOverAdam(b *testing.B, setup benchSetup, set *KFACSettings, reset bool) {
	m, theta0, batch := setup(b)
	benchOverAdam(b, m, theta0, batch, set, reset)
}

// benchOverAdam alternates a K-FAC step with settings set (nil: the
// defaults) and an Adam step on the batch, from theta0 reset before each
// pair when reset is set, and reports the ratio of their total times.
func benchOverAdam(b *testing.B, m *curvature.Model, theta0 []float64, batch curvature.Batch, set *KFACSettings, reset bool) {
	theta, thetaAdam := append([]float64(nil), theta0...), append([]float64(nil), theta0...)
	opt, err := NewKFAC(m, set)
	if err != nil {
		b.Fatal(err)
	}
	adam := adamStepper(b, m, thetaAdam)
	var kfac, first time.Duration
	for b.Loop() {
		if reset {
			copy(theta, theta0)
			copy(thetaAdam, theta0)
		}
		t0 := time.Now()
		if _, err := opt.Step(theta, batch); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		adam(thetaAdam, batch)
		kfac += t1.Sub(t0)
		first += time.Since(t1)
	}
	b.ReportMetric(float64(kfac)/float64(first), "kfac/adam")
	b.ReportMetric(0, "ns/op")
}

// adamStepper returns a function taking one Adam step with its gradient.
func adamStepper(b *testing.B, m *curvature.Model, theta []float64) func([]float64, curvature.Batch) {
	opt, err := firstorder.NewAdam(len(theta), firstorder.DefaultAdamSettings()) // lr 1e-3
	if err != nil {
		b.Fatal(err)
	}
	t := nn.NewTape(m.Net, m.Loss)
	g := make([]float64, len(theta))
	return func(theta []float64, batch curvature.Batch) {
		t.Forward(theta, batch.X)
		t.Backward(g, nil, batch.Y)
		if err := opt.Step(theta, g); err != nil {
			b.Fatal(err)
		}
	}
}
