package secondorder_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
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

// Hessian-free trains a digits classifier on mini-batches: each step runs
// conjugate gradients on damped Gauss–Newton products and reports what it
// did. (CG's backtracking makes later iterates sensitive to rounding, so
// the example prints what every BLAS reproduces.)
func ExampleHessianFree() {
	set, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 16, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))

	hf, err := secondorder.NewHessianFree(m, &secondorder.HessianFreeSettings{DiagonalPreconditioner: true})
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatches(set, 256, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("step  loss   lambda  CG  products")
	for step := 1; step <= 20; step++ {
		if !batches.Next() {
			batches.Next() // a new epoch
		}
		rec, err := hf.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()})
		if err != nil {
			log.Fatal(err)
		}
		if step%5 == 0 {
			fmt.Printf("%4d %5.2f %8.4f %3d %9d\n", rec.Step, rec.Loss, rec.Lambda, rec.CGIterations, rec.Spent.Products)
		}
	}
	t := nn.NewTape(net, m.Loss)
	t.Forward(theta, set.X)
	fmt.Printf("loss on all %d digits below 0.2: %v\n", set.Len(), t.LossValue(set.Y) < 0.2)
	// Output:
	// step  loss   lambda  CG  products
	//    5  1.41   0.1975  15        17
	//   10  0.41   0.0260  21        23
	//   15  0.12   0.0051  26        28
	//   20  0.17   0.0023  32        34
	// loss on all 1797 digits below 0.2: true
}

// K-FAC with its defaults trains a digits classifier on mini-batches of
// 128: the loss on all 1,797 digits before and after 50 steps.
func ExampleKFAC() {
	digits, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 32, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	loss := func() float64 {
		t := nn.NewTape(net, m.Loss)
		t.Forward(theta, digits.X)
		return t.LossValue(digits.Y)
	}
	fmt.Printf("loss %.3f before\n", loss())

	kfac, err := secondorder.NewKFAC(m, &secondorder.KFACSettings{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatches(digits, 128, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	for step := 0; step < 50; step++ {
		if !batches.Next() { // an epoch ended; start the next
			batches.Next()
		}
		if _, err := kfac.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()}); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("loss %.3f after 50 steps, damping λ = %.2g\n", loss(), kfac.Lambda())
	// Output:
	// loss 2.430 before
	// loss 0.048 after 50 steps, damping λ = 0.0021
}

// Natural-gradient descent takes any curvature: here K-FAC rebuilt every
// other step, the exact diagonal of the empirical Fisher, and TONGA's
// low-rank gradient covariance, each on the same mini-batches.
func ExampleNaturalGradient() {
	set, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 16, 10}, []string{"tanh", "identity"})
	if err != nil {
		log.Fatal(err)
	}
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	tonga, err := secondorder.TONGACurvature(m, approx.PerLayer, &approx.TONGASettings{Rank: 5, Discount: 0.99})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		settings secondorder.NaturalGradientSettings
	}{
		{"k-fac", secondorder.NaturalGradientSettings{
			LearningRate: 0.3, UpdateInterval: 2,
			Curvature: secondorder.KFACCurvature(m, nil),
		}},
		{"diagonal empirical Fisher", secondorder.NaturalGradientSettings{
			Curvature: secondorder.DiagonalCurvature(m, curvature.EmpiricalFisher, nil),
		}},
		{"tonga", secondorder.NaturalGradientSettings{LearningRate: 0.3, Curvature: tonga}},
	} {
		theta := make([]float64, net.NumParams())
		net.Init(theta, rand.New(rand.NewPCG(1, 1)))
		ng, err := secondorder.NewNaturalGradient(m, &c.settings)
		if err != nil {
			log.Fatal(err)
		}
		batches, err := data.NewBatches(set, 128, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			log.Fatal(err)
		}
		updates := 0
		for step := 0; step < 30; step++ {
			if !batches.Next() {
				batches.Next()
			}
			rec, err := ng.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()})
			if err != nil {
				log.Fatal(err)
			}
			if rec.Updated {
				updates++
			}
		}
		t := nn.NewTape(net, m.Loss)
		t.Forward(theta, set.X)
		fmt.Printf("%-26s loss %.3f after 30 steps, %d curvatures\n", c.name, t.LossValue(set.Y), updates)
	}
	// Output:
	// k-fac                      loss 0.187 after 30 steps, 15 curvatures
	// diagonal empirical Fisher  loss 0.801 after 30 steps, 30 curvatures
	// tonga                      loss 0.211 after 30 steps, 30 curvatures
}
