package nn_test

import (
	"encoding/json"
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
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

// A network described in PyTorch's terms: the shape goes from the input
// through the layers, so no layer repeats the height and width it gets,
// and a size that does not match is an error naming the layer and field.
// Describe gives the description back, with the defaults written out.
func ExampleDescription_Network() {
	var d nn.Description
	err := json.Unmarshal([]byte(`{"input_shape": [1, 6, 6], "layers": [
		{"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1},
		{"type": "relu"},
		{"type": "maxpool2d", "kernel_size": 2},
		{"type": "flatten"},
		{"type": "residual", "layers": [{"type": "layernorm", "normalized_shape": 18}, {"type": "linear", "in_features": 18, "out_features": 18}]},
		{"type": "linear", "in_features": 18, "out_features": 3}]}`), &d)
	if err != nil {
		log.Fatal(err)
	}
	net, err := d.Network()
	if err != nil {
		log.Fatal(err)
	}
	for k, l := range net.Layers {
		fmt.Printf("layer %d: %T, %d→%d, %d parameters\n", k, l, l.InSize(), l.OutSize(), l.NumParams())
	}
	fmt.Println("skip edges:", net.Skips())

	back, err := nn.Describe(net)
	if err != nil {
		log.Fatal(err)
	}
	conv, _ := json.Marshal(back.Layers[0])
	fmt.Println(string(conv))

	d.Layers[5].InFeatures = new(int)
	*d.Layers[5].InFeatures = 20
	_, err = d.Network()
	fmt.Println(err)
	// Output:
	// layer 0: nn.Conv2d, 36→72, 20 parameters
	// layer 1: nn.Elementwise, 72→72, 0 parameters
	// layer 2: nn.MaxPool2d, 72→18, 0 parameters
	// layer 3: nn.Flatten, 18→18, 0 parameters
	// layer 4: nn.LayerNorm, 18→18, 36 parameters
	// layer 5: nn.Dense, 18→18, 342 parameters
	// layer 6: nn.Dense, 18→3, 57 parameters
	// skip edges: [{4 5}]
	// {"type":"conv2d","in_channels":1,"out_channels":2,"kernel_size":[3,3],"stride":[1,1],"padding":[1,1]}
	// nn: layers[5] (linear): "in_features" is 20 but its input is a vector of 18 features
}

// A residual MLP with LayerNorm inside: New flattens the block into its
// body's layers with a skip edge, so each body layer keeps its own
// parameter block — the Dense layers Kronecker blocks for K-FAC, LayerNorm
// ([γ; β], 2·8 parameters) a dense one.
func ExampleResidual() {
	tanh := nn.Elementwise{Size: 8, Act: nn.Tanh{}}
	net, err := nn.New(
		nn.Dense{In: 6, Out: 8}, tanh,
		nn.Residual(nn.Dense{In: 8, Out: 8}, tanh, nn.LayerNorm{Size: 8}, nn.Dense{In: 8, Out: 8}),
		nn.Dense{In: 8, Out: 3},
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("skip edges:", net.Skips())
	for k, l := range net.Layers {
		if lo, hi := net.ParamRange(k); hi > lo {
			fmt.Printf("layer %d %T: θ[%d:%d], %v block\n", k, l, lo, hi, nn.StructureOf(l))
		}
	}

	_, err = nn.New(nn.Residual(nn.Dense{In: 8, Out: 4}))
	fmt.Println(err)
	// Output:
	// skip edges: [{2 5}]
	// layer 0 nn.Dense: θ[0:56], kronecker block
	// layer 2 nn.Dense: θ[56:128], kronecker block
	// layer 4 nn.LayerNorm: θ[128:144], dense block
	// layer 5 nn.Dense: θ[144:216], kronecker block
	// layer 6 nn.Dense: θ[216:243], kronecker block
	// nn: residual block of layer 0 maps 8 inputs to 4 outputs; its body must keep the size
}

// The Gaussian negative log-likelihood of one target y = 3 given a mean
// μ = 1 and a log-variance s = ln 4: its output Hessian is indefinite (one
// negative column in its factor), its output Fisher diag(e^{−s}, ½) is not.
func ExampleGaussianNLL() {
	loss := nn.GaussianNLL{}
	z := mat.NewDense(1, 2, []float64{1, math.Log(4)}) // (μ, s)
	y := mat.NewDense(1, 1, []float64{3})
	value := loss.Value(make([]float64, 1), z, y) // ½(s + (y − μ)² e^{−s})
	grad := mat.NewDense(1, 2, nil)
	loss.Grad(grad, z, y)
	H := mat.NewSymDense(2, nil)
	loss.Hessian(H, z.RawRowView(0), y.RawRowView(0))
	S := mat.NewDense(2, 2, nil)
	neg := loss.Factor(S, z.RawRowView(0), y.RawRowView(0))
	loss.FisherFactor(S, z.RawRowView(0))
	var F mat.Dense
	F.Mul(S, S.T())
	variance := mat.NewDense(1, 1, nil)
	loss.Variance(variance, z)
	fmt.Printf("ℓ = %.4f, ∇ℓ = %.4g\n", value, grad.RawRowView(0))
	fmt.Printf("H_z = %.4g, det %.4g, %d negative column\n", rowsOf(H), mat.Det(H), neg)
	fmt.Printf("F_z = %.4g\n", rowsOf(&F))
	fmt.Printf("predicted variance %.4g\n", variance.At(0, 0))
	// Output:
	// ℓ = 1.1931, ∇ℓ = [-0.5 0]
	// H_z = [[0.25 0.5] [0.5 0.5]], det -0.125, 1 negative column
	// F_z = [[0.25 0] [0 0.5]]
	// predicted variance 4
}

// Class-weighted cross-entropy with weights (1, 4) at even logits: the
// value and output Hessian of label 1 are 4 times cross-entropy's, while
// the output Fisher averages the squared weights over the labels,
// Σ_k p_k w_k² (p − e_k)(p − e_k)ᵀ = (½·1 + ½·16)/4 [1 −1; −1 1].
func ExampleWeightedSoftmaxCrossEntropy() {
	loss := nn.WeightedSoftmaxCrossEntropy{Weights: []float64{1, 4}}
	z := mat.NewDense(1, 2, []float64{0, 0})
	y := mat.NewDense(1, 1, []float64{1})
	value := loss.Value(make([]float64, 1), z, y)
	H := mat.NewSymDense(2, nil)
	loss.Hessian(H, z.RawRowView(0), y.RawRowView(0))
	S := mat.NewDense(2, 2, nil)
	loss.FisherFactor(S, z.RawRowView(0))
	var F mat.Dense
	F.Mul(S, S.T())
	fmt.Printf("ℓ = %.4f = 4 ln 2\n", value)
	fmt.Printf("H_z = %.4g\n", rowsOf(H))
	fmt.Printf("F_z = %.4g\n", rowsOf(&F))
	// Output:
	// ℓ = 2.7726 = 4 ln 2
	// H_z = [[1 -1] [-1 1]]
	// F_z = [[2.125 -2.125] [-2.125 2.125]]
}

// rowsOf returns the rows of m.
func rowsOf(m mat.Matrix) [][]float64 {
	r, _ := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = mat.Row(nil, i, m)
	}
	return out
}
