package verify_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
)

// Checking a layer before trusting its curvature: here the toolkit's own
// GELU activation layer.
func ExampleLayer() {
	rep := verify.Layer(nn.Elementwise{Size: 4, Act: nn.GELU{}}, 5, rand.New(rand.NewPCG(1, 1)), nil)
	for _, c := range rep.Checks {
		fmt.Println(c.Pass(), c.Name)
	}
	fmt.Println(rep.Err())
	// Output:
	// true JVP w.r.t. input vs central differences
	// true VJP w.r.t. input is the adjoint of JVP
	// true second-order term (input) vs differences of the VJP
	// <nil>
}
