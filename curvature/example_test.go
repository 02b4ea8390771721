package curvature_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
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

// A model read from model.json, its predictions, and the file written
// back. The linear layer's [W | b] is [I | 0], so the logits are the
// inputs.
func ExampleReadModel() {
	file := `{"input_shape": [2],
	          "layers": [{"type": "linear", "in_features": 2, "out_features": 2}],
	          "loss": "softmax_ce", "params": [1, 0, 0, 0, 1, 0]}`
	m, theta, err := curvature.ReadModel(strings.NewReader(file))
	if err != nil {
		log.Fatal(err)
	}
	x := mat.NewDense(3, 2, []float64{2, 0, 0, 1, 1, 1})
	prob, err := m.Probabilities(theta, x)
	if err != nil {
		log.Fatal(err)
	}
	class, err := m.Predict(theta, x)
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		fmt.Printf("x = %v: p = %.4f, class %v\n", x.RawRowView(i), prob.RawRowView(i), class.At(i, 0))
	}
	acc, err := m.Accuracy(theta, curvature.Batch{X: x, Y: mat.NewDense(3, 1, []float64{0, 1, 1})})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accuracy %.4f\n", acc)

	if err := curvature.WriteModel(os.Stdout, m, theta); err != nil {
		log.Fatal(err)
	}
	// Output:
	// x = [2 0]: p = [0.8808 0.1192], class 0
	// x = [0 1]: p = [0.2689 0.7311], class 1
	// x = [1 1]: p = [0.5000 0.5000], class 0
	// accuracy 0.6667
	// {
	//   "input_shape": [2],
	//   "layers": [
	//     {"type": "linear", "in_features": 2, "out_features": 2}
	//   ],
	//   "loss": "softmax_ce",
	//   "params": [1, 0, 0, 0, 1, 0]
	// }
}

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

// A long dense build can report how far it has come. The GGN of the digits
// classifier is built from 8 chunks of at most 256 samples, each in 236
// products that write parts of the result (159 + 64 + 13 for the three
// pairs of layers): 1,888 parts, reported at each thousandth of them and
// at the end, one report at a time whatever the number of workers.
func ExampleOptions_progress() {
	net, _ := nn.NewMLP([]int{64, 32, 10}, []string{"tanh", "identity"})
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	digits, _ := data.Digits()
	m := curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	b := curvature.Batch{X: digits.X, Y: digits.Y}

	reports, last := 0, 0
	opt := &curvature.Options{Progress: func(done, total int) {
		reports++
		if done < last {
			fmt.Println("done fell")
		}
		last = done
		if done == total {
			fmt.Printf("%d of %d parts, %d reports\n", done, total, reports)
		}
	}}
	_, err := m.Dense(curvature.GGN, theta, b, opt)
	fmt.Println(err)
	// Output:
	// 1888 of 1888 parts, 1001 reports
	// <nil>
}

// Sample weights make the batch loss Σ w_i ℓ_i / Σ w_i and every matrix the
// same weighted mean. PyTorch's CrossEntropyLoss(weight=w) divides by
// Σ w_{y_i} in its mean reduction: that is softmax cross-entropy with the
// sample weights w_{y_i}, while class-weighted cross-entropy on an
// unweighted batch divides by N (PyTorch 1.13 gives 1.2306 and, for its sum
// reduction over N, 1.6921 on these logits). A weight of 2 counts a sample
// twice.
func ExampleBatch_weights() {
	net, _ := nn.NewMLP([]int{2, 3}, []string{"identity"})
	theta := []float64{1, 0, 0, 0, 1, 0, -1, -1, 0.5}
	x := mat.NewDense(4, 2, []float64{0, 0, 1, 0, 0, 1, 1, 1})
	y := mat.NewDense(4, 1, []float64{0, 1, 1, 2})
	class := []float64{1, 2, 0.5}
	w := make([]float64, 4)
	for i := range w {
		w[i] = class[int(y.At(i, 0))]
	}
	ce := curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	torchMean, _ := ce.Objective(curvature.Batch{X: x, Y: y, W: w})
	wce := curvature.Model{Net: net, Loss: nn.WeightedSoftmaxCrossEntropy{Weights: class}}
	perN, _ := wce.Objective(curvature.Batch{X: x, Y: y})
	fmt.Printf("Σ w_y ℓ / Σ w_y = %.4f, Σ w_y ℓ / N = %.4f\n", torchMean.Func(theta), perN.Func(theta))

	twice := curvature.Batch{X: mat.NewDense(5, 2, append([]float64{0, 0}, x.RawMatrix().Data...)), Y: mat.NewDense(5, 1, []float64{0, 0, 1, 1, 2})}
	g1, _ := ce.Dense(curvature.GGN, theta, curvature.Batch{X: x, Y: y, W: []float64{2, 1, 1, 1}}, nil)
	g2, _ := ce.Dense(curvature.GGN, theta, twice, nil)
	fmt.Printf("GGN of weight 2: trace %.6f; of the sample twice: trace %.6f\n", mat.Trace(g1), mat.Trace(g2))
	// Output:
	// Σ w_y ℓ / Σ w_y = 1.2306, Σ w_y ℓ / N = 1.6921
	// GGN of weight 2: trace 1.005945; of the sample twice: trace 1.005945
}
