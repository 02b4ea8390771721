package inverse_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/inverse"
	"github.com/curvkit/curvkit/curvature/nn"
)

// An inverse-GGN-vector product, as an influence function needs it: CG on
// the matrix-free GGN of a small iris classifier, checked against the
// dense GGN.
func ExampleCG() {
	iris, err := data.Iris()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{4, 8, 3}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	b := curvature.Batch{X: iris.X, Y: iris.Y}

	ggn, err := m.Operator(curvature.GGN, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	const lambda = 1e-3
	inv := &inverse.CG{Op: ggn, Damping: lambda, Tol: 1e-10}
	obj, err := m.Objective(b)
	if err != nil {
		log.Fatal(err)
	}
	g := make([]float64, net.NumParams())
	obj.Grad(g, theta) // the gradient of the mean loss
	x := make([]float64, net.NumParams())
	if err := inv.SolveTo(x, g); err != nil {
		log.Fatal(err)
	}

	// Check: (G + λI)x = g with the dense GGN.
	dense, err := m.Dense(curvature.GGN, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	var r mat.VecDense
	r.MulVec(dense, mat.NewVecDense(len(x), x))
	r.AddScaledVec(&r, lambda, mat.NewVecDense(len(x), x))
	r.SubVec(&r, mat.NewVecDense(len(g), g))
	st := inv.Stats()
	// (The iteration count, 36 or 37, depends on the rounding of the
	// matrix kernels.)
	fmt.Printf("%d parameters, at most 40 CG iterations: %v, residual below 1e-10: %v\n", net.NumParams(), st.Iterations <= 40, st.Residual <= 1e-10)
	fmt.Printf("dense ‖(G + λI)x − g‖/‖g‖ below 1e-9: %v\n", mat.Norm(&r, 2) < 1e-9*mat.Norm(mat.NewVecDense(len(g), g), 2))
	// Output:
	// 67 parameters, at most 40 CG iterations: true, residual below 1e-10: true
	// dense ‖(G + λI)x − g‖/‖g‖ below 1e-9: true
}
