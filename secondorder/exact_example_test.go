package secondorder_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/secondorder"
)

// Exact stops once the step is good enough. Here, in the hard case (g is
// orthogonal to the bottom eigenvector), the default tolerances accept the
// first iterate whose step, completed to the boundary along the estimated
// bottom singular vector, is within half of the optimal model decrease (it
// is within 1.1%); SciPy's (EasyTol 0.1, HardTol 0.2) iterate once more, to
// SciPy's trust-exact step; tight tolerances give the exact solution
// p = (±2√2/3, −1/3) with σ = −λ₁ = 1.
func ExampleExact() {
	m := curvature.NewDense(mat.NewSymDense(2, []float64{
		-1, 0,
		0, 2,
	}))
	g := []float64{0, 1}
	p := make([]float64, 2)
	for _, e := range []*secondorder.Exact{{}, {EasyTol: 0.1, HardTol: 0.2}, {EasyTol: 1e-12, HardTol: 1e-12}} {
		info, err := e.Solve(p, m, g, 1)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("tolerances %g, %g: p = (%.4f, %.4f), ‖p‖ = %.4f, σ = %.4f, decrease %.4f\n",
			e.EasyTol, e.HardTol, p[0], p[1], floats.Norm(p, 2), info.Lambda, info.Decrease)
	}
	// Output:
	// tolerances 0, 0: p = (-0.9148, -0.4039), ‖p‖ = 1.0000, σ = 1.4142, decrease 0.6592
	// tolerances 0.1, 0.2: p = (-0.9295, -0.3687), ‖p‖ = 1.0000, σ = 1.1892, decrease 0.6648
	// tolerances 1e-12, 1e-12: p = (-0.9428, -0.3333), ‖p‖ = 1.0000, σ = 1.0000, decrease 0.6667
}
