package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/secondorder"
)

// restartEvery is the length of the benchmarks' runs, about the steps K-FAC
// takes to the target: the forward pass costs more at trained parameters
// (larger pre-activations of tanh), so a step is timed along the
// trajectory the example follows, not at one point of it.
const restartEvery = 300

// stepper returns a function taking one step of the optimizer that pick
// selects from the example's pair along its run from θ₀ on the example's
// batches (seed 1), and returning the step's time. It starts a fresh run,
// off the clock, every restartEvery steps.
func stepper(b *testing.B, pick func(kfac, adam secondorder.Optimizer) secondorder.Optimizer) func() time.Duration {
	model, theta0, train, _, err := problem(1)
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, len(theta0))
	var (
		opt     secondorder.Optimizer
		batches *data.Batches
		n       int
	)
	return func() time.Duration {
		if n%restartEvery == 0 {
			b.StopTimer()
			kfac, adam, err := optimizers(model, 1)
			if err != nil {
				b.Fatal(err)
			}
			opt = pick(kfac, adam)
			if batches, err = data.NewBatches(train, 256, rand.New(rand.NewPCG(1, 3))); err != nil {
				b.Fatal(err)
			}
			batches.DropLast = true
			copy(theta, theta0)
			b.StartTimer()
		}
		n++
		if !batches.Next() {
			batches.Next()
		}
		batch := curvature.Batch{X: batches.X(), Y: batches.Y()}
		start := time.Now()
		if _, err := opt.Step(theta, batch); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
}

func kfacOf(k, _ secondorder.Optimizer) secondorder.Optimizer { return k }
func adamOf(_, a secondorder.Optimizer) secondorder.Optimizer { return a }

// BenchmarkKFACStep is one step of the example's K-FAC; ns/op counts the
// steps only, as the example's clock does (not the batches' assembly).
func BenchmarkKFACStep(b *testing.B) { benchStep(b, kfacOf) }

// BenchmarkAdamStep is one step of the example's Adam (lr 0.01).
func BenchmarkAdamStep(b *testing.B) { benchStep(b, adamOf) }

func benchStep(b *testing.B, pick func(kfac, adam secondorder.Optimizer) secondorder.Optimizer) {
	step := stepper(b, pick)
	var total time.Duration
	for b.Loop() {
		total += step()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
}

// BenchmarkKFACOverAdam alternates one K-FAC step and one Adam step and
// reports the ratio of their total times, which both see the same machine
// load.
func BenchmarkKFACOverAdam(b *testing.B) {
	kfac, adam := stepper(b, kfacOf), stepper(b, adamOf)
	var tk, ta time.Duration
	for b.Loop() {
		tk += kfac()
		ta += adam()
	}
	b.ReportMetric(float64(tk)/float64(ta), "kfac/adam")
	b.ReportMetric(0, "ns/op")
}
