package main

import (
	"io"
	"testing"
	"time"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/secondorder"
)

// BenchmarkBaselineStep compares a baseline's step as the benchmark takes
// it, through secondorder.FirstOrder (which validates the batch and fills
// its Record), with the bare step (the gradient and Adam's update),
// alternating one of each from the same parameters on the first 256
// training rows of each task, and reports the ratio of their total times.
func BenchmarkBaselineStep(b *testing.B) {
	for _, task := range []string{"autoencode", "classify"} {
		b.Run(task, func(b *testing.B) {
			c, err := parseFlags([]string{"-task", task}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			p, err := loadProblem(c, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			idx := make([]int, 256)
			for i := range idx {
				idx[i] = i
			}
			rows := p.train.Subset(idx)
			batch := curvature.Batch{X: rows.X, Y: rows.Y}
			P := p.model.Net.NumParams()
			s := firstorder.DefaultAdamSettings()
			s.LR = 1e-2
			bare, err := firstorder.NewAdam(P, s)
			if err != nil {
				b.Fatal(err)
			}
			wrapped, err := firstorder.NewAdam(P, s)
			if err != nil {
				b.Fatal(err)
			}
			fo, err := secondorder.NewFirstOrder(p.model, wrapped)
			if err != nil {
				b.Fatal(err)
			}
			tape := nn.NewTape(p.model.Net, p.model.Loss)
			grad := make([]float64, P)
			t1, t2 := make([]float64, P), make([]float64, P)
			var tBare, tWrapped time.Duration
			for b.Loop() {
				copy(t1, p.theta0)
				copy(t2, p.theta0)
				start := time.Now()
				tape.Forward(t1, batch.X)
				tape.Backward(grad, nil, batch.Y)
				if err := bare.Step(t1, grad); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if _, err := fo.Step(t2, batch); err != nil {
					b.Fatal(err)
				}
				tBare += mid.Sub(start)
				tWrapped += time.Since(mid)
			}
			b.ReportMetric(float64(tWrapped)/float64(tBare), "firstorder/bare")
		})
	}
}
