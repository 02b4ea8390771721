package spectral_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/spectral"
)

// XTrace against Hutch++ with the same 30 products on the Hilbert matrix,
// whose eigenvalues decay geometrically: XTrace uses every product both
// for the low-rank part and for the residual, and its error is far
// smaller, as its standard error says.
func ExampleXTrace() {
	const n = 300
	exact := 0.0
	for i := 0; i < n; i++ {
		exact += 1 / float64(2*i+1)
	}
	hpp, err := (&spectral.HutchPlusPlus{Products: 30, Seed: 1}).Trace(hilbert(n))
	if err != nil {
		log.Fatal(err)
	}
	xt, err := (&spectral.XTrace{Products: 30, Seed: 1}).Trace(hilbert(n))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trace   %.7f\n", exact)
	fmt.Printf("Hutch++ %.7f: error %.0e, standard error %.0e\n", hpp.Value, math.Abs(hpp.Value-exact), hpp.StdErr)
	fmt.Printf("XTrace  %.7f: error %.0e, standard error %.0e (%d products)\n", xt.Value, math.Abs(xt.Value-exact), xt.StdErr, xt.Products)
	// Output:
	// trace   3.8336465
	// Hutch++ 3.8336467: error 2e-07, standard error 2e-06
	// XTrace  3.8336465: error 3e-10, standard error 2e-09 (30 products)
}

// Per-layer traces and top eigenvalues of a network's Hessian, as
// PyHessian reports them, from products with the whole Hessian restricted
// to each layer's parameters; checked against the dense layer blocks.
func ExampleBlockTraces() {
	digits, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 8, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	b := curvature.Batch{X: digits.X.Slice(0, 200, 0, 64).(*mat.Dense), Y: digits.Y.Slice(0, 200, 0, 1).(*mat.Dense)}

	h, err := m.Operator(curvature.Hessian, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	layers := m.ParamBlocks()
	traces, err := spectral.BlockTraces(h, layers, &spectral.XTrace{Products: 60, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	tops, err := spectral.BlockEigen(h, layers, &spectral.Lanczos{K: 1, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for k, r := range layers {
		block, err := m.Block(curvature.Hessian, k, theta, b, nil)
		if err != nil {
			log.Fatal(err)
		}
		var eig mat.EigenSym
		eig.Factorize(block, false)
		vals := eig.Values(nil)
		tr := 0.0
		for _, v := range vals {
			tr += v
		}
		fmt.Printf("layer %d (%d parameters): trace %.3f ± %.3f (dense %.3f), top eigenvalue %.6f (dense %.6f)\n",
			k, r[1]-r[0], traces[k].Value, traces[k].StdErr, tr, tops[k].Values[0], vals[len(vals)-1])
	}
	// Output:
	// layer 0 (520 parameters): trace 4.547 ± 0.073 (dense 4.465), top eigenvalue 1.944342 (dense 1.944342)
	// layer 1 (90 parameters): trace 2.632 ± 0.008 (dense 2.640), top eigenvalue 0.406260 (dense 0.406260)
}
