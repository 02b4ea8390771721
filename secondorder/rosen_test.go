package secondorder

import (
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/testfunc"
)

// rosen is gonum's ExtendedRosenbrock with its Hessian.
var rosen = testfunc.ExtendedRosenbrock{}

func rosenProblem() optimize.Problem { return rosen.Problem() }

func rosenObjective(n int) *curvature.Function {
	obj, err := curvature.FromProblem(rosenProblem(), n)
	if err != nil {
		panic(err)
	}
	return obj
}

// The starting point of SciPy's tutorial for the 5-D Rosenbrock function.
var scipyX0 = []float64{1.3, 0.7, 0.8, 1.9, 1.2}

// tracked wraps an objective and keeps the points at which the gradient
// was evaluated — for the methods here, exactly the accepted points — and
// can inject NaN.
type tracked struct {
	curvature.Objective
	points   [][]float64
	nanFunc  func(x []float64) bool
	nanGrad  func(x []float64) bool
	hessians int
}

func (t *tracked) Func(x []float64) float64 {
	if t.nanFunc != nil && t.nanFunc(x) {
		return math.NaN()
	}
	return t.Objective.Func(x)
}

func (t *tracked) Grad(g, x []float64) {
	t.Objective.Grad(g, x)
	if t.nanGrad != nil && t.nanGrad(x) {
		g[0] = math.NaN()
	}
	t.points = append(t.points, append([]float64(nil), x...))
}

func (t *tracked) Hess(dst *mat.SymDense, x []float64) {
	t.hessians++
	t.Objective.(curvature.Hessianer).Hess(dst, x)
}
