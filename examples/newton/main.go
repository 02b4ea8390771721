package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/testfunc"
	"github.com/curvkit/curvkit/examples/internal/command"
	"github.com/curvkit/curvkit/secondorder"
)

// rosenbrock is gonum's ExtendedRosenbrock with its exact Hessian.
var rosenbrock = testfunc.ExtendedRosenbrock{}

// row is one method's run.
type row struct {
	method         string
	iters, trials  int // accepted steps; steps including rejected trials
	fun, grad, hes int
	products       int // curvature-vector products (−1: not reported)
	factorizations int // (−1: not reported)
	gradNorm, f    float64
	converged      bool
}

const gradTol = 1e-8

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// cli runs the command with the arguments after the program name and
// returns its exit status: 2 for a usage error, 1 when a run fails.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("newton", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxIter := fs.Int("maxiter", 20000, "iteration cap (gradient descent and the Cauchy trust region need it)")
	if !command.Parse(fs, args) {
		return 2
	}
	starts := []struct {
		name string
		x0   []float64
	}{
		{"2-D Rosenbrock from (−1.2, 1)", []float64{-1.2, 1}},
		{"5-D Rosenbrock from (1.3, 0.7, 0.8, 1.9, 1.2)", []float64{1.3, 0.7, 0.8, 1.9, 1.2}},
	}
	for _, s := range starts {
		rows, err := compare(s.x0, *maxIter)
		if err != nil {
			fmt.Fprintln(stderr, "newton:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s, to ‖∇f‖∞ < %g (cap %d iterations)\n\n", s.name, gradTol, *maxIter)
		printTable(stdout, rows)
		fmt.Fprintln(stdout)
	}
	return 0
}

// compare runs every method from x0.
func compare(x0 []float64, maxIter int) ([]row, error) {
	var rows []row
	gonumMethods := []struct {
		name string
		m    optimize.Method
	}{
		{"gradient descent + backtracking (gonum)", &optimize.GradientDescent{Linesearcher: &optimize.Backtracking{}}},
		{"BFGS (gonum)", &optimize.BFGS{}},
		{"Newton (gonum)", &optimize.Newton{}},
	}
	for _, g := range gonumMethods {
		r, err := runGonum(g.name, g.m, x0, maxIter)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	ours := []struct {
		name string
		m    secondorder.Stepper
	}{
		{"damped Newton, Levenberg–Marquardt λ₀ = 1", &secondorder.DampedNewton{Lambda: 1, Adaptive: &secondorder.LevenbergMarquardt{}}},
		{"Newton + backtracking, λ = 0", &secondorder.DampedNewton{}},
		{"Newton + backtracking, |Λ| step", &secondorder.DampedNewton{Indefinite: secondorder.AbsEigen}},
		{"trust region, Cauchy point", &secondorder.TrustRegion{Solver: &secondorder.Cauchy{}}},
		{"trust region, dogleg", &secondorder.TrustRegion{Solver: &secondorder.Dogleg{}}},
		{"trust region, Steihaug–Toint CG", &secondorder.TrustRegion{Solver: &secondorder.Steihaug{}}},
		{"trust region, exact, default tolerances", &secondorder.TrustRegion{Solver: &secondorder.Exact{}}},
		{"trust region, exact, tolerances 1e-10", &secondorder.TrustRegion{Solver: &secondorder.Exact{EasyTol: 1e-10, HardTol: 1e-10}}},
	}
	for _, o := range ours {
		r, err := runOurs(o.name, o.m, x0, maxIter)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// runGonum stops gonum's runs at ‖∇f‖∞ < gradTol, the criterion of ours,
// and on nothing else before the cap.
func runGonum(name string, m optimize.Method, x0 []float64, maxIter int) (row, error) {
	res, err := optimize.Minimize(rosenbrock.Problem(), x0, &optimize.Settings{
		GradientThreshold: gradTol,
		Converger:         optimize.NeverTerminate{},
		MajorIterations:   maxIter + 1, // gonum counts the start as one
	}, m)
	if err != nil {
		return row{}, fmt.Errorf("%s: %w", name, err)
	}
	gn := floats.Norm(res.Gradient, math.Inf(1))
	return row{
		method: name, iters: res.MajorIterations - 1, trials: -1,
		fun: res.FuncEvaluations, grad: res.GradEvaluations, hes: res.HessEvaluations,
		products: -1, factorizations: -1,
		gradNorm: gn, f: res.F, converged: gn < gradTol,
	}, nil
}

func runOurs(name string, m secondorder.Stepper, x0 []float64, maxIter int) (row, error) {
	obj, err := curvature.FromProblem(rosenbrock.Problem(), len(x0))
	if err != nil {
		return row{}, err
	}
	x := append([]float64(nil), x0...)
	res, err := secondorder.Minimize(x, obj, m, &secondorder.Settings{GradientThreshold: gradTol, MaxIterations: maxIter})
	if err != nil {
		return row{}, fmt.Errorf("%s: %w", name, err)
	}
	return row{
		method: name, iters: res.Accepted, trials: res.Iterations,
		fun: res.Func, grad: res.Grad, hes: res.Hess,
		products: res.Products, factorizations: res.Factorizations,
		gradNorm: res.GradNorm, f: res.F, converged: res.Status == optimize.GradientThreshold,
	}, nil
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\titers\tsteps\tf evals\t∇f evals\tHessians\tM·v products\tfactorisations\t‖∇f‖∞\tf\tconverged\t")
	opt := func(v int) string {
		if v < 0 {
			return "–"
		}
		return fmt.Sprint(v)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%s\t%s\t%.1e\t%.1e\t%v\t\n",
			r.method, r.iters, opt(r.trials), r.fun, r.grad, r.hes, opt(r.products), opt(r.factorizations),
			r.gradNorm, math.Max(r.f, 0), r.converged)
	}
	tw.Flush()
}
