package curvature_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"
)

// The GGN of a small classifier, dense and as a matrix-free product.
func Example() {
	net, _ := nn.NewMLP([]int{2, 3, 3}, []string{"tanh", "identity"})
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	batch := curvature.Batch{
		X: mat.NewDense(4, 2, []float64{0, 1, 1, 0, 1, 1, 0, 0}),
		Y: mat.NewDense(4, 1, []float64{0, 1, 2, 1}),
	}
	m := curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}

	ggn, err := m.Dense(curvature.GGN, theta, batch, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	op, _ := m.Operator(curvature.GGN, theta, batch, nil)
	v := make([]float64, net.NumParams())
	v[0] = 1
	gv := make([]float64, len(v))
	op.MulVecTo(gv, v)
	fmt.Printf("P = %d, G[0][0] = %.6f, (G e_0)[0] = %.6f\n", net.NumParams(), ggn.At(0, 0), gv[0])

	_, err = m.Dense(curvature.Hessian, theta, batch, &curvature.Options{Budget: 100})
	fmt.Println(err)
	// Output:
	// P = 21, G[0][0] = 0.130266, (G e_0)[0] = 0.130266
	// curvature: hessian needs 441 floats (3.4 KiB), over the budget of 100 floats (800.0 B); raise the Budget setting (negative: no limit) if the machine has the memory
}

// gonum's test functions that have a Hess are objectives with exact
// Hessians (the snippet of FromProblem's documentation). Wood's function at
// its minimum (1, 1, 1, 1).
func ExampleFromProblem() {
	f := functions.Wood{}
	obj, _ := curvature.FromProblem(optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}, 4)
	var h mat.SymDense
	_ = curvature.DenseHessian(&h, obj, []float64{1, 1, 1, 1}, 0)
	fmt.Printf("%.1f\n", mat.Formatted(&h))
	// Output:
	// ⎡ 802.0  -400.0     0.0     0.0⎤
	// ⎢-400.0   220.2     0.0    19.8⎥
	// ⎢   0.0     0.0   722.0  -360.0⎥
	// ⎣   0.0    19.8  -360.0   200.2⎦
}
