package approx_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

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
