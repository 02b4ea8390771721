package secondorder_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/secondorder"
)

// With SciPy's default tolerances Exact stops once the step is good
// enough: here, in the hard case, within 0.2 of the optimal model
// decrease (it is within 0.1%); tight tolerances give the exact solution
// p = (±2√2/3, −1/3) with σ = −λ₁ = 1.
func ExampleExact() {
	m := curvature.NewDense(mat.NewSymDense(2, []float64{
		-1, 0,
		0, 2,
	}))
	g := []float64{0, 1}
	p := make([]float64, 2)
	for _, e := range []*secondorder.Exact{{}, {EasyTol: 1e-12, HardTol: 1e-12}} {
		info, err := e.Solve(p, m, g, 1)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("tolerances %g, %g: p = (%.4f, %.4f), ‖p‖ = %.4f, σ = %.4f, decrease %.4f\n",
			e.EasyTol, e.HardTol, p[0], p[1], floats.Norm(p, 2), info.Lambda, info.Decrease)
	}
	// Output:
	// tolerances 0, 0: p = (-0.9496, -0.3136), ‖p‖ = 1.0000, σ = 1.1892, decrease 0.6661
	// tolerances 1e-12, 1e-12: p = (-0.9428, -0.3333), ‖p‖ = 1.0000, σ = 1.0000, decrease 0.6667
}
