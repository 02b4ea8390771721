package secondorder_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/secondorder"
)

// K-FAC with its defaults trains a digits classifier on mini-batches of
// 128: the loss on all 1,797 digits before and after 50 steps.
func ExampleKFAC() {
	digits, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 32, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	loss := func() float64 {
		t := nn.NewTape(net, m.Loss)
		t.Forward(theta, digits.X)
		return t.LossValue(digits.Y)
	}
	fmt.Printf("loss %.3f before\n", loss())

	kfac, err := secondorder.NewKFAC(m, &secondorder.KFACSettings{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatches(digits, 128, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	for step := 0; step < 50; step++ {
		if !batches.Next() { // an epoch ended; start the next
			batches.Next()
		}
		if _, err := kfac.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("loss %.3f after 50 steps, damping λ = %.2g\n", loss(), kfac.Lambda())
	// Output:
	// loss 2.430 before
	// loss 0.048 after 50 steps, damping λ = 0.0021
}
