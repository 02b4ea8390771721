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
// did. (CG's backtracking makes later iterates sensitive to rounding, so
// the example prints what every BLAS reproduces.)
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
	fmt.Println("step  loss   lambda  CG  products")
	for step := 1; step <= 20; step++ {
		if !batches.Next() {
			batches.Next() // a new epoch
		}
		rec, err := hf.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()})
		if err != nil {
			log.Fatal(err)
		}
		if step%5 == 0 {
			fmt.Printf("%4d %5.2f %8.4f %3d %9d\n", rec.Step, rec.Loss, rec.Lambda, rec.CGIterations, rec.Spent.Products)
		}
	}
	t := nn.NewTape(net, m.Loss)
	t.Forward(theta, set.X)
	fmt.Printf("loss on all %d digits below 0.2: %v\n", set.Len(), t.LossValue(set.Y) < 0.2)
	// Output:
	// step  loss   lambda  CG  products
	//    5  1.41   0.1975  15        17
	//   10  0.41   0.0260  21        23
	//   15  0.12   0.0051  26        28
	//   20  0.17   0.0023  32        34
	// loss on all 1797 digits below 0.2: true
}
