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

// laplacian is the matrix-free 1-D Laplacian tridiag(−1, 2, −1) of order n,
// whose eigenvalues are 2 − 2cos(jπ/(n+1)), j = 1…n, and trace 2n.
type laplacian int

func (l laplacian) Dim() int { return int(l) }

func (l laplacian) MulVecTo(dst, v []float64) {
	n := int(l)
	for i := range dst {
		dst[i] = 2 * v[i]
		if i > 0 {
			dst[i] -= v[i-1]
		}
		if i < n-1 {
			dst[i] -= v[i+1]
		}
	}
}

// hilbert is the matrix-free n×n Hilbert matrix 1/(i + j + 1), whose
// eigenvalues decay geometrically.
type hilbert int

func (h hilbert) Dim() int { return int(h) }

func (h hilbert) MulVecTo(dst, v []float64) {
	for i := range dst {
		s := 0.0
		for j, x := range v {
			s += x / float64(i+j+1)
		}
		dst[i] = s
	}
}

// The largest eigenvalues of an operator known only through its
// products, with their residuals, against the dense eigendecomposition.
func ExampleLanczos() {
	const n = 300
	res, err := (&spectral.Lanczos{K: 3, Tol: 1e-10, Seed: 1}).Eigen(hilbert(n))
	if err != nil {
		log.Fatal(err)
	}
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, 1/float64(i+j+1))
		}
	}
	var eig mat.EigenSym
	eig.Factorize(a, false)
	vals := eig.Values(nil)
	for j, theta := range res.Values {
		fmt.Printf("θ = %.12f  EigenSym %.12f  residual < 1e-10: %v\n", theta, vals[n-1-j], res.Residuals[j] < 1e-10)
	}
	fmt.Printf("%d products\n", res.Products)
	// Output:
	// θ = 2.322019936917  EigenSym 2.322019936917  residual < 1e-10: true
	// θ = 1.033217167966  EigenSym 1.033217167966  residual < 1e-10: true
	// θ = 0.343336268241  EigenSym 0.343336268241  residual < 1e-10: true
	// 12 products
}

// Hutch++ against Hutchinson with the same number of products, on the
// Hilbert matrix, whose spectrum decays fast.
func ExampleHutchPlusPlus() {
	const n = 300
	exact := 0.0
	for i := 0; i < n; i++ {
		exact += 1 / float64(2*i+1)
	}
	h, err := (&spectral.Hutchinson{Products: 30, Seed: 1}).Trace(hilbert(n))
	if err != nil {
		log.Fatal(err)
	}
	hpp, err := (&spectral.HutchPlusPlus{Products: 30, Seed: 1}).Trace(hilbert(n))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trace %.6f\nHutchinson %.6f ± %.6f\nHutch++    %.6f ± %.6f\n", exact, h.Value, h.StdErr, hpp.Value, hpp.StdErr)
	// Output:
	// trace 3.833646
	// Hutchinson 4.293172 ± 0.555168
	// Hutch++    3.833647 ± 0.000002
}

// The spectral density by stochastic Lanczos quadrature: the estimated
// distribution function against the exact one. (examples/spectrum writes
// a network's density as CSV and draws it.)
func ExampleSLQ() {
	op := laplacian(400)
	d, err := (&spectral.SLQ{Steps: 30, Probes: 10, Seed: 1}).Density(op)
	if err != nil {
		log.Fatal(err)
	}
	// The Laplacian's eigenvalues fill [0, 4] with the arcsine law, whose
	// distribution function is 1/2 at 2 and 1/3 at 1.
	fmt.Printf("F(1) = %.2f (exact 1/3), F(2) = %.2f (exact 1/2), %d products\n", d.CDF(1), d.CDF(2), d.Products)
	// Output:
	// F(1) = 0.34 (exact 1/3), F(2) = 0.51 (exact 1/2), 300 products
}

// The diagonal of an operator from products alone: the error of each
// entry falls as 1/√Products.
func ExampleHutchinson_Diagonal() {
	op := laplacian(5)
	diag := make([]float64, 5)
	for _, m := range []int{100, 10000} {
		if _, err := (&spectral.Hutchinson{Products: m, Seed: 1}).Diagonal(diag, op); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d products: %.2f\n", m, diag)
	}
	// Output:
	// 100 products: [1.88 1.84 2.14 2.24 2.06]
	// 10000 products: [2.01 2.02 2.02 2.00 1.99]
}

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
