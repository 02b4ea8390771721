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

// Hessian-free trains a digits classifier on mini-batches: each step runs
// conjugate gradients on damped Gauss–Newton products and reports what it
// did.
func ExampleHessianFree() {
	set, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 16, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))

	hf, err := secondorder.NewHessianFree(m, &secondorder.HessianFreeSettings{DiagonalPreconditioner: true})
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatches(set, 256, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("step   loss   lambda    rho  CG chosen  products")
	for step := 1; step <= 20; step++ {
		if !batches.Next() {
			batches.Next() // a new epoch
		}
		rec, err := hf.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()})
		if err != nil {
			log.Fatal(err)
		}
		if step%5 == 0 {
			fmt.Printf("%4d %6.3f %8.4f %6.2f %3d %6d %9d\n", rec.Step, rec.Loss, rec.Lambda, rec.Rho, rec.CGIterations, rec.Chosen, rec.Spent.Products)
		}
	}
	t := nn.NewTape(net, m.Loss)
	t.Forward(theta, set.X)
	fmt.Printf("loss on all %d digits: %.3f\n", set.Len(), t.LossValue(set.Y))
	// Output:
	// step   loss   lambda    rho  CG chosen  products
	//    5  1.407   0.1975   0.95  15      5        17
	//   10  0.409   0.0260   0.92  21     21        23
	//   15  0.122   0.0051   0.82  26     26        28
	//   20  0.172   0.0023   0.65  32     32        34
	// loss on all 1797 digits: 0.153
}
