package secondorder_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/secondorder"
)

// Natural-gradient descent takes any curvature: here K-FAC rebuilt every
// other step, the exact diagonal of the empirical Fisher, and TONGA's
// low-rank gradient covariance, each on the same mini-batches.
func ExampleNaturalGradient() {
	set, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 16, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	tonga, err := secondorder.TONGACurvature(m, approx.PerLayer, &approx.TONGASettings{Rank: 5, Discount: 0.99})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		settings secondorder.NaturalGradientSettings
	}{
		{"k-fac", secondorder.NaturalGradientSettings{
			LearningRate: 0.3, UpdateInterval: 2,
			Curvature: secondorder.KFACCurvature(m, nil),
		}},
		{"diagonal empirical Fisher", secondorder.NaturalGradientSettings{
			Curvature: secondorder.DiagonalCurvature(m, curvature.EmpiricalFisher, nil),
		}},
		{"tonga", secondorder.NaturalGradientSettings{LearningRate: 0.3, Curvature: tonga}},
	} {
		theta := make([]float64, net.NumParams())
		net.Init(theta, rand.New(rand.NewPCG(1, 1)))
		ng, err := secondorder.NewNaturalGradient(m, &c.settings)
		if err != nil {
			log.Fatal(err)
		}
		batches, err := data.NewBatches(set, 128, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			log.Fatal(err)
		}
		updates := 0
		for step := 0; step < 30; step++ {
			if !batches.Next() {
				batches.Next()
			}
			rec, err := ng.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()})
			if err != nil {
				log.Fatal(err)
			}
			if rec.Updated {
				updates++
			}
		}
		t := nn.NewTape(net, m.Loss)
		t.Forward(theta, set.X)
		fmt.Printf("%-26s loss %.3f after 30 steps, %d curvatures\n", c.name, t.LossValue(set.Y), updates)
	}
	// Output:
	// k-fac                      loss 0.187 after 30 steps, 15 curvatures
	// diagonal empirical Fisher  loss 0.801 after 30 steps, 30 curvatures
	// tonga                      loss 0.211 after 30 steps, 30 curvatures
}
