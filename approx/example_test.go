package approx_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/spectral"
)

// Precondition a gradient with a Kronecker block: one layer with 2 outputs
// and 2 inputs (plus the bias), G 2×2 and A 3×3.
func ExampleNewKron() {
	g := mat.NewSymDense(2, []float64{
		2, 0.5,
		0.5, 1,
	})
	a := mat.NewSymDense(3, []float64{
		1, 0.2, 0,
		0.2, 1, 0.1,
		0, 0.1, 1,
	})
	k, err := approx.NewKron(g, a, nil)
	if err != nil {
		log.Fatal(err)
	}
	grad := []float64{1, 0, 0, 0, 1, 0} // row-major [W | b], 2×3
	step := make([]float64, k.Dim())
	if err := k.SolveDampedTo(step, grad, 0.1); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("step %.4f\n", step)
	ld, _ := k.LogDet(0)
	fmt.Printf("trace %.2f, log det %.4f, %d floats for a %d×%d block\n", k.Trace(), ld, k.Floats(), k.Dim(), k.Dim())
	// Output:
	// step [0.5960 -0.3561 0.0310 -0.4393 1.1042 -0.0983]
	// trace 9.00, log det 1.5763, 13 floats for a 6×6 block
}

// The memory K-FAC needs for the 64-128-128-10 perceptron, against the
// dense diagonal blocks and the full dense matrix.
func ExampleLayerShapes() {
	total, kfac := 0, 0
	for l, sh := range approx.LayerShapes(64, 128, 128, 10) {
		p := sh.G * sh.A
		f := sh.G*sh.G + sh.A*sh.A
		fmt.Printf("layer %d: %5d parameters, K-FAC %5d floats, dense block %9d floats (%4.0f×)\n",
			l, p, f, p*p, float64(p*p)/float64(f))
		total += p
		kfac += f
	}
	fmt.Printf("network: %d parameters, K-FAC %d floats, dense %d floats (%.0f×)\n",
		total, kfac, total*total, float64(total*total)/float64(kfac))
	// Output:
	// layer 0:  8320 parameters, K-FAC 20609 floats, dense block  69222400 floats (3359×)
	// layer 1: 16512 parameters, K-FAC 33025 floats, dense block 272646144 floats (8256×)
	// layer 2:  1290 parameters, K-FAC 16741 floats, dense block   1664100 floats (  99×)
	// network: 26122 parameters, K-FAC 70375 floats, dense 682358884 floats (9696×)
}

// Compare the diagonal approximation of a matrix with the matrix.
func ExampleCompare() {
	m := mat.NewSymDense(3, []float64{
		4, 1, 0,
		1, 3, 1,
		0, 1, 2,
	})
	d, err := approx.DiagonalOf(m, 0)
	if err != nil {
		log.Fatal(err)
	}
	c, err := approx.Compare(curvature.NewDense(m), d, []float64{1, 1, 1}, 0.1, 2, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Frobenius %.4f, spectral %.4f\n", c.RelFrobenius, c.RelSpectral)
	fmt.Printf("solve error %.4f, cosine %.4f\n", c.SolveRelError, c.SolveCosine)
	fmt.Printf("top eigenvalues: exact %.4f, diagonal %.4f\n", c.ExactTop, c.ApproxTop)
	// Output:
	// Frobenius 0.3482, spectral 0.2989
	// solve error 0.4407, cosine 0.9558
	// top eigenvalues: exact [4.7321 3.0000], diagonal [4.0000 3.0000]
}

// A diagonal approximation from Hutchinson's estimate of diag(M), for a
// matrix known only through its products: the GGN of a digits classifier
// (610 parameters). The estimate's error falls as 1/√Products.
func ExampleNewDiagonal() {
	net, err := nn.NewMLP([]int{64, 8, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	digits, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	b := curvature.Batch{X: digits.X.Slice(0, 100, 0, 64).(*mat.Dense), Y: digits.Y.Slice(0, 100, 0, 1).(*mat.Dense)}
	op, err := m.Operator(curvature.GGN, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	exact, err := m.Diagonal(curvature.GGN, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	est := make([]float64, op.Dim())
	for _, products := range []int{100, 1600} {
		if _, err := (&spectral.Hutchinson{Products: products, Seed: 1}).Diagonal(est, op); err != nil {
			log.Fatal(err)
		}
		d, err := approx.NewDiagonal(est, 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%4d products: ‖d̂ − diag(G)‖/‖diag(G)‖ = %.3f\n", products, floats.Distance(d.Values(), exact, 2)/floats.Norm(exact, 2))
	}
	// Output:
	//  100 products: ‖d̂ − diag(G)‖/‖diag(G)‖ = 0.495
	// 1600 products: ‖d̂ − diag(G)‖/‖diag(G)‖ = 0.129
}

// Estimate the gradient covariance online with TONGA and take the natural
// gradient direction (C̃ + λI)⁻¹ μ of the mean gradient.
func ExampleNewTONGA() {
	rnd := rand.New(rand.NewPCG(1, 1))
	// Two neurons with 3 parameters each.
	t, err := approx.NewTONGA(approx.Ranges(3, 3), &approx.TONGASettings{Rank: 2, Refresh: 2, Discount: 0.9})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		g := make([]float64, 6)
		for j := range g {
			g[j] = float64(j%3) + rnd.NormFloat64()
		}
		if err := t.Add(g); err != nil {
			log.Fatal(err)
		}
	}
	dir := make([]float64, 6)
	if err := t.NaturalGradientTo(dir, 0.1); err != nil {
		log.Fatal(err)
	}
	s := t.Settings()
	fmt.Printf("%d gradients, weight %.3f, at most %d columns per block, %d floats\n",
		t.Count(), t.Weight(), s.Rank+s.Refresh, t.Floats())
	fmt.Printf("mean %.3f\n", t.Mean())
	fmt.Printf("direction %.3f\n", dir)
	// Output:
	// 20 gradients, weight 8.784, at most 4 columns per block, 24 floats
	// mean [0.043 1.589 1.487 -0.299 1.223 2.231]
	// direction [-2.272 2.819 3.019 4.929 3.545 2.835]
}

// irisModel returns a 4-5-3 tanh network with seeded parameters and the
// first 60 iris flowers.
func irisModel() (*curvature.Model, []float64, curvature.Batch) {
	iris, err := data.Iris()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{4, 5, 3}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 2)))
	b := curvature.Batch{X: mat.DenseCopyOf(iris.X.Slice(0, 60, 0, 4)), Y: mat.DenseCopyOf(iris.Y.Slice(0, 60, 0, 1))}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, b
}

// How far from the GGN are its diagonal, its per-layer and per-neuron
// blocks, K-FAC, EKFAC and the Kronecker-optimal layer blocks?
func Example_modelApproximations() {
	m, theta, b := irisModel()
	ggn, err := m.Dense(curvature.GGN, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	exact := curvature.NewDense(ggn)

	diag, err := approx.ModelDiagonal(m, curvature.GGN, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	layers, err := approx.ModelBlockDiagonal(m, curvature.GGN, approx.PerLayer, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	neurons, err := approx.ModelBlockDiagonal(m, curvature.GGN, approx.PerNeuron, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	ekfac, err := approx.ModelEKFAC(m, theta, b, nil) // exact factors: K-FAC of the GGN
	if err != nil {
		log.Fatal(err)
	}
	kfac := ekfac.KFAC()
	nearest, err := approx.ModelNearestKronecker(m, curvature.GGN, theta, b, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range []struct {
		name string
		a    interface {
			approx.Approximation
			Floats() int
		}
	}{
		{"diagonal", diag}, {"per-neuron blocks", neurons}, {"per-layer blocks", layers},
		{"K-FAC", kfac}, {"EKFAC", ekfac}, {"Kronecker-optimal", nearest},
	} {
		e, err := approx.RelFrobeniusError(exact, c.a)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-18s %5d floats, relative Frobenius error %.4f\n", c.name, c.a.Floats(), e)
	}
	fmt.Printf("dense GGN          %5d floats\n", ggn.SymmetricDim()*ggn.SymmetricDim())
	// Output:
	// diagonal              43 floats, relative Frobenius error 0.9592
	// per-neuron blocks    233 floats, relative Frobenius error 0.7777
	// per-layer blocks     949 floats, relative Frobenius error 0.5444
	// K-FAC                 95 floats, relative Frobenius error 0.5453
	// EKFAC                138 floats, relative Frobenius error 0.5452
	// Kronecker-optimal     95 floats, relative Frobenius error 0.5447
	// dense GGN           1849 floats
}

// TONGA fed the per-sample gradients of a stream of mini-batches, then
// the natural gradient direction (C̃ + λI)⁻¹ μ for the running mean μ.
func ExampleTONGAFeed() {
	m, theta, b := irisModel()
	feed, err := approx.NewTONGAFeed(m, approx.PerNeuron, &approx.TONGASettings{Rank: 3, Discount: 0.99})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 60; i += 20 {
		mini := curvature.Batch{X: b.X.Slice(i, i+20, 0, 4).(*mat.Dense), Y: b.Y.Slice(i, i+20, 0, 1).(*mat.Dense)}
		if err := feed.Add(theta, mini); err != nil {
			log.Fatal(err)
		}
	}
	t := feed.TONGA()
	dir := make([]float64, t.Dim())
	if err := t.NaturalGradientTo(dir, 1e-3); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d gradients in %d blocks, %d floats\n", t.Count(), t.NumBlocks(), t.Floats())
	// Output:
	// 60 gradients in 8 blocks, 215 floats
}

// Running averages of the K-FAC statistics over mini-batches, as an
// optimizer keeps them: the first batch sets them (ε = 0), later ones are
// folded in with ε = 0.8. The corner of every A factor is the mean of ā's
// constant 1, so it stays 1 (to rounding).
func ExampleKFAC_Update() {
	m, theta, _ := irisModel()
	iris, err := data.Iris()
	if err != nil {
		log.Fatal(err)
	}
	k, err := approx.NewKFAC(m.Net, nil)
	if err != nil {
		log.Fatal(err)
	}
	tape := nn.NewTape(m.Net, m.Loss)
	for i := 0; i < 3; i++ {
		x := mat.DenseCopyOf(iris.X.Slice(20*i, 20*i+20, 0, 4))
		y := mat.DenseCopyOf(iris.Y.Slice(20*i, 20*i+20, 0, 1))
		tape.Forward(theta, x)
		decay := 0.8
		if i == 0 {
			decay = 0
		}
		if err := k.Update(tape, y, decay); err != nil {
			log.Fatal(err)
		}
	}
	for l := 0; l < k.NumBlocks(); l++ {
		g, a := k.Kron(l).Factors()
		n := a.SymmetricDim()
		fmt.Printf("layer %d: G %d×%d, A %d×%d, A's corner %.12f\n", l, g.SymmetricDim(), g.SymmetricDim(), n, n, a.At(n-1, n-1))
	}
	// Output:
	// layer 0: G 5×5, A 5×5, A's corner 1.000000000000
	// layer 1: G 3×3, A 6×6, A's corner 1.000000000000
}

// The per-neuron blocks of the GGN as a sparse matrix to take away: its
// nonzeros are the blocks' entries (5 neurons of 4 weights and a bias,
// 3 of 5 and a bias: 5·5² + 3·6² = 233), and it multiplies as the approximation
// does. DoNonZero lists the (i, j, value) triplets, which scipy.sparse's
// coo_matrix reads as they are.
func ExampleBlockDiagonal_Sparse() {
	m, theta, b := irisModel()
	neurons, err := approx.ModelBlockDiagonal(m, curvature.GGN, approx.PerNeuron, theta, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	csr := neurons.Sparse()
	n := neurons.Dim()
	fmt.Printf("%d blocks, %d nonzeros of %d entries\n", neurons.NumBlocks(), csr.NNZ(), n*n)

	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i%7) - 3
	}
	want := make([]float64, n)
	neurons.MulVecTo(want, v)
	got := make([]float64, n)
	csr.MulVecTo(got, false, v)
	diff, size := 0.0, 0.0
	for i := range got {
		diff = math.Max(diff, math.Abs(got[i]-want[i]))
		size = math.Max(size, math.Abs(want[i]))
	}
	fmt.Println("products agree to 1e-14:", diff <= 1e-14*size)

	triplets := 0
	csr.DoNonZero(func(i, j int, v float64) { triplets++ })
	fmt.Println("triplets:", triplets)
	// Output:
	// 8 blocks, 233 nonzeros of 1849 entries
	// products agree to 1e-14: true
	// triplets: 233
}
