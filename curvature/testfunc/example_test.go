package testfunc_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature/testfunc"
)

// Newton's method needs the Hessian gonum's ExtendedRosenbrock lacks.
func ExampleExtendedRosenbrock() {
	p := testfunc.ExtendedRosenbrock{}.Problem()
	res, err := optimize.Minimize(p, []float64{-1.2, 1, -1.2, 1}, nil, &optimize.Newton{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, %v\n", res.X, res.Status)
	// Output:
	// x = [1.000000 1.000000 1.000000 1.000000], GradientThreshold
}
