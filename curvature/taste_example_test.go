package curvature_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// The README's taste of the API: curvature matrices of a digits classifier.
func ExampleModel() {
	net, _ := nn.NewMLP([]int{64, 32, 10}, []string{"tanh", "identity"})
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))

	digits, _ := data.Digits() // embedded: 1,797 handwritten digits, 64 pixels in [0, 1]
	m := curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	b := curvature.Batch{X: digits.X, Y: digits.Y}

	ggn, _ := m.Dense(curvature.GGN, theta, b, nil)               // P×P *mat.SymDense
	hess, _ := m.Operator(curvature.Hessian, theta, b, nil)       // exact H·v, no P×P storage
	ef, _ := m.Block(curvature.EmpiricalFisher, 1, theta, b, nil) // one layer's block only

	v := make([]float64, net.NumParams())
	v[0] = 1
	hv := make([]float64, net.NumParams())
	hess.MulVecTo(hv, v)
	fmt.Println(net.NumParams(), ggn.SymmetricDim(), ef.SymmetricDim())

	_, err := m.Dense(curvature.Hessian, theta, b, &curvature.Options{Budget: 1 << 20})
	fmt.Println(err)
	// Output:
	// 2410 2410 330
	// curvature: hessian needs 5808100 floats (44.3 MiB), over the budget of 1048576 floats (8.0 MiB); raise the Budget setting (negative: no limit) if the machine has the memory
}
