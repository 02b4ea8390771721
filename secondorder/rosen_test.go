package secondorder

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/curvature"
)

// rosenHess stores the Hessian of gonum's ExtendedRosenbrock,
// f = Σ (1 − x_i)² + 100(x_{i+1} − x_i²)², which gonum does not provide:
//
//	H_ii     = [i < n−1](1200x_i² − 400x_{i+1} + 2) + [i > 0]·200
//	H_i,i+1  = −400 x_i.
//
// TestRosenbrockHessian checks it against finite differences.
func rosenHess(dst *mat.SymDense, x []float64) {
	n := len(x)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0)
		}
	}
	for i := 0; i < n; i++ {
		d := 0.0
		if i < n-1 {
			d += 1200*x[i]*x[i] - 400*x[i+1] + 2
			dst.SetSym(i, i+1, -400*x[i])
		}
		if i > 0 {
			d += 200
		}
		dst.SetSym(i, i, d)
	}
}

func rosenProblem() optimize.Problem {
	f := functions.ExtendedRosenbrock{}
	return optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: rosenHess}
}

func rosenObjective(n int) *curvature.Function {
	obj, err := curvature.FromProblem(rosenProblem(), n)
	if err != nil {
		panic(err)
	}
	return obj
}

// The starting point of SciPy's tutorial for the 5-D Rosenbrock function.
var scipyX0 = []float64{1.3, 0.7, 0.8, 1.9, 1.2}

// gradNorm2 is an optimize.Converger that stops when ‖∇f‖₂ < tol, the
// criterion of SciPy's gtol and of Minimize, so gonum's methods are
// measured the same way.
type gradNorm2 float64

func (gradNorm2) Init(int) {}

func (t gradNorm2) Converged(loc *optimize.Location) optimize.Status {
	if loc.Gradient != nil && floats.Norm(loc.Gradient, 2) < float64(t) {
		return optimize.GradientThreshold
	}
	return optimize.NotTerminated
}

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

func TestRosenbrockHessian(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 1))
	f := functions.ExtendedRosenbrock{}
	for _, n := range []int{2, 3, 5} {
		x := randVec(n, rnd)
		got := mat.NewSymDense(n, nil)
		rosenHess(got, x)
		want := mat.NewDense(n, n, nil)
		fd.Jacobian(want, f.Grad, x, &fd.JacobianSettings{Formula: fd.Central})
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				assert.InDelta(t, want.At(i, j), got.At(i, j), 1e-5*math.Max(1, math.Abs(want.At(i, j))), "n=%d (%d,%d)", n, i, j)
			}
		}
	}
}
