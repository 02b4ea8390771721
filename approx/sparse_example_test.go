package approx_test

import (
	"fmt"
	"log"
	"math"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
)

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
