package testfunc

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"
)

// Function is a test function with its gradient and Hessian.
type Function interface {
	Func(x []float64) float64
	Grad(grad, x []float64)
	Hess(dst *mat.SymDense, x []float64)
}

// Problem returns f as an optimize.Problem with Func, Grad and Hess.
func Problem(f Function) optimize.Problem {
	return optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}
}

// Instance is a test function in a given dimension with its starting point.
type Instance struct {
	// Name is the function's name, with the dimension appended for the
	// functions of any dimension ("ExtendedRosenbrock-10").
	Name     string
	Function Function
	// X0 is the standard starting point.
	X0 []float64
}

// Dim returns the dimension of the instance.
func (in Instance) Dim() int { return len(in.X0) }

// Problem returns the instance's function as an optimize.Problem.
func (in Instance) Problem() optimize.Problem { return Problem(in.Function) }

// MoreGarbowHillstrom returns 25 instances of the Moré–Garbow–Hillstrom
// test functions in gonum's optimize/functions, each from the starting
// point gonum documents for it: Beale, BrownBadlyScaled, PowellBadlyScaled,
// ExtendedRosenbrock (n = 2, 10, 100), HelicalValley, Gaussian, Box3D,
// GulfResearchAndDevelopment ("Gulf"), Wood, BrownAndDennis,
// ExtendedPowellSingular (n = 4, 100, from (3, −1, 0, 3) repeated, where
// Moré, Garbow & Hillstrom start from (3, −1, 0, 1)), BiggsEXP6, Watson
// (n = 6, 9), Trigonometric, VariablyDimensioned, PenaltyI and PenaltyII
// (n = 10, 100). The Hessians are this package's where gonum has none or
// a wrong one (Beale), and gonum's otherwise (BrownBadlyScaled,
// PowellBadlyScaled, Wood, BrownAndDennis, Watson). Every call returns new
// slices.
func MoreGarbowHillstrom() []Instance {
	fill := func(n int, v ...float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = v[i%len(v)]
		}
		return x
	}
	variably := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 1 - float64(i+1)/float64(n)
		}
		return x
	}
	ramp := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(i + 1)
		}
		return x
	}
	named := func(name string, n int) string { return fmt.Sprintf("%s-%d", name, n) }
	return []Instance{
		{"Beale", Beale{}, []float64{1, 1}},
		{"BrownBadlyScaled", functions.BrownBadlyScaled{}, []float64{1, 1}},
		{"PowellBadlyScaled", functions.PowellBadlyScaled{}, []float64{0, 1}},
		{named("ExtendedRosenbrock", 2), ExtendedRosenbrock{}, fill(2, -1.2, 1)},
		{named("ExtendedRosenbrock", 10), ExtendedRosenbrock{}, fill(10, -1.2, 1)},
		{named("ExtendedRosenbrock", 100), ExtendedRosenbrock{}, fill(100, -1.2, 1)},
		{"HelicalValley", HelicalValley{}, []float64{-1, 0, 0}},
		{"Gaussian", Gaussian{}, []float64{0.4, 1, 0}},
		{"Box3D", Box3D{}, []float64{0, 10, 20}},
		{"Gulf", GulfResearchAndDevelopment{}, []float64{5, 2.5, 0.15}},
		{"Wood", functions.Wood{}, []float64{-3, -1, -3, -1}},
		{"BrownAndDennis", functions.BrownAndDennis{}, []float64{25, 5, -5, -1}},
		{named("ExtendedPowellSingular", 4), ExtendedPowellSingular{}, fill(4, 3, -1, 0, 3)},
		{named("ExtendedPowellSingular", 100), ExtendedPowellSingular{}, fill(100, 3, -1, 0, 3)},
		{"BiggsEXP6", BiggsEXP6{}, []float64{1, 2, 1, 1, 1, 1}},
		{named("Watson", 6), functions.Watson{}, fill(6, 0)},
		{named("Watson", 9), functions.Watson{}, fill(9, 0)},
		{named("Trigonometric", 10), Trigonometric{}, fill(10, 1.0/10)},
		{named("Trigonometric", 100), Trigonometric{}, fill(100, 1.0/100)},
		{named("VariablyDimensioned", 10), VariablyDimensioned{}, variably(10)},
		{named("VariablyDimensioned", 100), VariablyDimensioned{}, variably(100)},
		{named("PenaltyI", 10), PenaltyI{}, ramp(10)},
		{named("PenaltyI", 100), PenaltyI{}, ramp(100)},
		{named("PenaltyII", 10), PenaltyII{}, fill(10, 0.5)},
		{named("PenaltyII", 100), PenaltyII{}, fill(100, 0.5)},
	}
}
