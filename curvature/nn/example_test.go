package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/curvkit/curvkit/curvature/nn"
	"gonum.org/v1/gonum/mat"
)

// A gradient, per-sample gradients and a Hessian-vector product on one
// batch.
func ExampleTape() {
	net, _ := nn.NewMLP([]int{2, 4, 1}, []string{"tanh", "identity"})
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 2)))
	x := mat.NewDense(3, 2, []float64{0, 1, 1, 0, 1, 1})
	y := mat.NewDense(3, 1, []float64{1, 1, 0})

	tape := nn.NewTape(net, nn.MSE{})
	tape.Forward(theta, x)
	grad := make([]float64, net.NumParams())
	perSample := mat.NewDense(3, net.NumParams(), nil)
	tape.Backward(grad, perSample, y)

	v := make([]float64, net.NumParams())
	v[0] = 1
	hv := make([]float64, net.NumParams())
	tape.HessVec(hv, v)
	fmt.Printf("P = %d, loss = %.4f, H[0][0] = %.4f\n", net.NumParams(), tape.LossValue(y), hv[0])
	// Output:
	// P = 17, loss = 0.3896, H[0][0] = 0.4683
}
