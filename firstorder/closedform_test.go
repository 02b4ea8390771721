package firstorder

import (
	"math"
	"testing"
)

// TestAdadeltaClosedForm checks Adadelta's first steps against its update
// written out, with the zero value's ρ = 0 (each average is the current
// square) and the defaults LR 1 and ε = 1e-6 that a zero LR and Eps take.
func TestAdadeltaClosedForm(t *testing.T) {
	const eps = 1e-6
	gs := []float64{2, -0.5, 3e-4}
	opt := mustOpt(NewAdadelta(1, AdadeltaSettings{}))
	if opt.LearningRate() != 1 {
		t.Fatalf("learning rate %v, want the default 1", opt.LearningRate())
	}
	x := []float64{0.25}
	var u float64 // the previous squared step, with ρ = 0
	for k, g := range gs {
		want := x[0] - math.Sqrt(u+eps)/math.Sqrt(g*g+eps)*g
		opt.Step(x, []float64{g})
		if math.Abs(x[0]-want) > 1e-15*math.Abs(want) {
			t.Fatalf("step %d: θ = %v, want %v", k+1, x[0], want)
		}
		d := math.Sqrt(u+eps) / math.Sqrt(g*g+eps) * g
		u = d * d
	}
}

// TestRpropSteps checks Rprop's sign logic on one coordinate: the step size
// starts at the learning rate, grows by η⁺ while the sign holds (up to
// StepMax), shrinks by η⁻ and skips the move when it flips, and the step
// after a flip does not grow it; a zero gradient leaves θ and δ alone. The
// zero fields take torch's defaults, except StepMin, 0.
func TestRpropSteps(t *testing.T) {
	opt := mustOpt(NewRprop(1, RpropSettings{LR: 0.1, StepMax: 0.15}))
	x := []float64{0}
	for k, c := range []struct{ g, dx float64 }{
		{1, -0.1},        // δ = lr
		{2, -0.12},       // same sign: δ·1.2
		{3, -0.144},      // again
		{1, -0.15},       // capped at StepMax
		{-1, 0},          // flip: δ·0.5, no move, p = 0
		{-1, 0.075},      // after a flip: δ unchanged
		{-1, 0.09},       // same sign again
		{0, 0},           // g = 0: no move, p = 0
		{5, -0.09},       // p = 0: δ unchanged
		{-1e-200, 0},     // a flip, however small
		{1e-200, -0.045}, // p = 0: δ unchanged
	} {
		before := x[0]
		opt.Step(x, []float64{c.g})
		if dx := x[0] - before; math.Abs(dx-c.dx) > 1e-15 {
			t.Fatalf("step %d (g = %v): Δθ = %v, want %v", k+1, c.g, dx, c.dx)
		}
	}
	// The product of two gradients that underflows to 0 counts as no sign
	// information, as torch's sign(g·p) = 0 does: δ stays.
	before := x[0]
	opt.Step(x, []float64{1e-200})
	if dx := x[0] - before; math.Abs(dx+0.045) > 1e-15 {
		t.Fatalf("underflowing product: Δθ = %v, want −0.045", dx)
	}
}

// TestASGDAverage checks ASGD's closed forms: with λ = α = 0 it is SGD with a
// constant rate, and with t₀ = 2 its average is θ until step t₀ + 2 = 4 and
// then the mean of the iterates from step 4 on; with λ > 0, η_t = lr/(1 + λ·lr·(t−1))^α
// and θ shrinks by 1 − λη_t.
func TestASGDAverage(t *testing.T) {
	const lr = 0.1
	gs := []float64{1, -2, 0.5, 3, -1, 2, 0.25}
	opt := mustOpt(NewASGD(1, ASGDSettings{LR: lr, T0: 2})).(*ASGD)
	x := []float64{1}
	var iterates []float64
	avg := []float64{0}
	for k, g := range gs {
		want := x[0] - lr*g
		opt.Step(x, []float64{g})
		if math.Abs(x[0]-want) > 1e-15 {
			t.Fatalf("step %d: θ = %v, want %v", k+1, x[0], want)
		}
		opt.AverageTo(avg)
		wantAvg := x[0]
		if k+1 > 4 {
			iterates = append(iterates, x[0])
			wantAvg = 0
			for _, v := range iterates {
				wantAvg += v / float64(len(iterates))
			}
		} else {
			iterates = append(iterates[:0], x[0])
		}
		if math.Abs(avg[0]-wantAvg) > 1e-15 {
			t.Fatalf("step %d: average %v, want %v", k+1, avg[0], wantAvg)
		}
	}

	const lambda, alpha = 0.5, 0.75
	opt = mustOpt(NewASGD(1, ASGDSettings{LR: lr, Lambda: lambda, Alpha: alpha, T0: 1e6})).(*ASGD)
	x[0] = 1
	for k, g := range gs {
		eta := lr / math.Pow(1+lambda*lr*float64(k), alpha)
		want := x[0]*(1-lambda*eta) - eta*g
		opt.Step(x, []float64{g})
		if math.Abs(x[0]-want) > 1e-15 {
			t.Fatalf("λ > 0, step %d: θ = %v, want %v", k+1, x[0], want)
		}
	}
	if msg := panicMessage(func() { opt.AverageTo(make([]float64, 2)) }); msg == "" {
		t.Error("AverageTo into a slice of the wrong length did not panic")
	}
}
