package secondorder_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/secondorder"
)

// The trust-region method is an optimize.Method, so optimize.Minimize runs
// it on any gonum Problem with a gradient and a Hessian. It stops at the
// package's default ‖∇f‖∞ < 1e-8, as Minimize does. On Wood's function it
// takes the 44 function evaluations of SciPy's trust-exact.
func ExampleTrustRegion() {
	f := functions.Wood{}
	p := optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}
	method := &secondorder.TrustRegion{Solver: &secondorder.Exact{}}
	res, err := optimize.Minimize(p, []float64{-3, -1, -3, -1}, nil, method)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.6f, f < 1e-20: %v\n", res.X, res.F < 1e-20)
	fmt.Printf("%v after %d function, %d gradient and %d Hessian evaluations\n",
		res.Status, res.FuncEvaluations, res.GradEvaluations, res.HessEvaluations)
	// Output:
	// x = [1.000000 1.000000 1.000000 1.000000], f < 1e-20: true
	// GradientThreshold after 44 function, 38 gradient and 38 Hessian evaluations
}

// Minimize runs a method on a curvature.Objective, updates x in place and
// records every step.
func ExampleMinimize() {
	f := functions.Wood{}
	obj, err := curvature.FromProblem(optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}, 4)
	if err != nil {
		log.Fatal(err)
	}
	x := []float64{-3, -1, -3, -1}
	res, err := secondorder.Minimize(x, obj, &secondorder.TrustRegion{Solver: &secondorder.Steihaug{}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(" step  accepted   radius     rho       f")
	for _, s := range res.Steps[:5] {
		fmt.Printf("%5d %9v %8.4f %7.3f %9.2e\n", s.Iteration, s.Accepted, s.Radius, s.Rho, s.F)
	}
	fmt.Printf("x = %.6f after %d steps, %d curvature-vector products\n", x, res.Iterations, res.Products)
	// Output:
	//  step  accepted   radius     rho       f
	//     1      true   1.0000   1.069  7.43e+03
	//     2      true   2.0000   1.207  1.65e+03
	//     3      true   2.0000   1.208  3.96e+02
	//     4      true   2.0000   1.200  1.03e+02
	//     5      true   2.0000   1.128  3.61e+01
	// x = [1.000000 1.000000 1.000000 1.000000] after 86 steps, 196 curvature-vector products
}

// A SubproblemSolver solves one subproblem. Here g is orthogonal to the
// eigenvector of the negative eigenvalue (the hard case): the other
// solvers' steps lie in span{g, Mg, …}, which misses it, and only Exact
// reaches the larger decrease along it.
func ExampleSubproblemSolver() {
	m := curvature.NewDense(mat.NewSymDense(2, []float64{
		-1, 0,
		0, 2,
	}))
	g := []float64{0, 1}
	p := make([]float64, 2)
	for _, s := range []struct {
		name   string
		solver secondorder.SubproblemSolver
	}{
		{"Cauchy", &secondorder.Cauchy{}},
		{"Dogleg", &secondorder.Dogleg{}},
		{"Steihaug", &secondorder.Steihaug{}},
		{"GLTR", &secondorder.GLTR{}},
		{"Exact", &secondorder.Exact{}},
	} {
		info, err := s.solver.Solve(p, m, g, 1)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-8s p = (%.4f, %.4f), decrease %.4f, hard case %v\n",
			s.name, p[0], p[1], info.Decrease, info.HardCase)
	}
	// Output:
	// Cauchy   p = (-0.0000, -0.5000), decrease 0.2500, hard case false
	// Dogleg   p = (-0.0000, -0.5000), decrease 0.2500, hard case false
	// Steihaug p = (0.0000, -0.5000), decrease 0.2500, hard case false
	// GLTR     p = (0.0000, -0.5000), decrease 0.2500, hard case false
	// Exact    p = (-0.9148, -0.4039), decrease 0.6592, hard case true
}

// Direction solves (M + λI)d = −g; with FailIndefinite an indefinite
// M + λI is an error.
func ExampleDampedNewton_Direction() {
	m := curvature.NewDense(mat.NewSymDense(2, []float64{
		4, 1,
		1, 3,
	}))
	g := []float64{1, 2}
	d := make([]float64, 2)
	for _, lambda := range []float64{0, 1} {
		dn := secondorder.DampedNewton{Lambda: lambda, Indefinite: secondorder.FailIndefinite}
		if _, err := dn.Direction(d, m, g); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("λ = %v: d = (%.4f, %.4f)\n", lambda, d[0], d[1])
	}
	dn := secondorder.DampedNewton{Lambda: 0.5, Indefinite: secondorder.FailIndefinite}
	_, err := dn.Direction(d[:1], curvature.NewDense(mat.NewSymDense(1, []float64{-1})), []float64{1})
	fmt.Println(err)
	// Output:
	// λ = 0: d = (-0.0909, -0.6364)
	// λ = 1: d = (-0.1053, -0.4737)
	// secondorder: matrix is not positive definite: M + λI with λ = 0.5
}
