package nn_test

import (
	"fmt"
	"log"

	"github.com/curvkit/curvkit/curvature/nn"
)

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
