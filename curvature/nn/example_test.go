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

// A small convolutional network on 1×8×8 images, its shapes chained with
// OutShape: convolution, tanh, average pooling, flatten, dense.
func ExampleConv2d() {
	conv, err := nn.NewConv2d(1, 8, 8, 4, [2]int{3, 3}, [2]int{1, 1}, [2]int{1, 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, h, w := conv.OutShape()
	pool, err := nn.NewAvgPool2d(c, h, w, [2]int{2, 2}, [2]int{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, h, w = pool.OutShape()
	net, err := nn.New(
		conv,
		nn.Elementwise{Size: conv.OutSize(), Act: nn.Tanh{}},
		pool,
		nn.Flatten{C: c, H: h, W: w},
		nn.Dense{In: c * h * w, Out: 10},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, q, r := conv.KronShape()
	fmt.Printf("%v\n%v\nP = %d; the convolution's K-FAC block is %d×%d ⊗ %d×%d over %d locations\n", conv, pool, net.NumParams(), p, p, q, q, r)

	// A kernel that does not fit is refused when the network is built.
	_, err = nn.New(nn.Conv2d{In: 1, Out: 4, H: 8, W: 8, Kernel: [2]int{9, 9}})
	fmt.Println(err)
	// Output:
	// conv2d(1×8×8 → 4×8×8, kernel 3×3, stride 1×1, padding 1×1)
	// avgpool2d(4×8×8 → 4×4×4, kernel 2×2, stride 2×2)
	// P = 690; the convolution's K-FAC block is 4×4 ⊗ 10×10 over 64 locations
	// nn: layer 0: conv2d(1×8×8 → 4×0×0, kernel 9×9, stride 1×1, padding 0×0): kernel 9×9 is larger than the padded input 8×8
}
