package curvature

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/curvature/nn"
)

// gonum's test functions plug in with their exact Hessians; without a
// Hessian the finite-difference fallback matches the exact one.
func TestFromProblemHessians(t *testing.T) {
	x := []float64{1.3, 0.7, 0.8, 1.9}
	f := functions.Wood{}
	exact, err := FromProblem(optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}, 4)
	require.NoError(t, err)
	noHess, err := FromProblem(optimize.Problem{Func: f.Func, Grad: f.Grad}, 4)
	require.NoError(t, err)
	funcOnly, err := FromProblem(optimize.Problem{Func: f.Func}, 4)
	require.NoError(t, err)

	var want, fdH, fdH2 mat.SymDense
	require.NoError(t, DenseHessian(&want, exact, x, 0))
	require.NoError(t, DenseHessian(&fdH, noHess, x, 0))
	require.NoError(t, DenseHessian(&fdH2, funcOnly, x, 0))
	assert.Less(t, relErr(&fdH, &want), 1e-8, "Hessian from gradient differences")
	assert.Less(t, relErr(&fdH2, &want), 1e-4, "Hessian from differences of a difference gradient")

	rng := rand.New(rand.NewPCG(1, 1))
	v := make([]float64, 4)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	var hv mat.VecDense
	hv.MulVec(&want, mat.NewVecDense(4, v))
	for name, obj := range map[string]Objective{"exact": exact, "differences": noHess} {
		got := make([]float64, 4)
		HessianOperator(obj, x).MulVecTo(got, v)
		assert.InDeltaSlice(t, hv.RawVector().Data, got, 1e-6*mat.Norm(&hv, 2), name)
	}

	p := Problem(exact)
	assert.InDelta(t, f.Func(x), p.Func(x), 0)
	assert.NotNil(t, p.Hess)
}

// A network objective's Hessian through DenseHessian equals Model.Dense.
func TestNetObjectiveHessian(t *testing.T) {
	f := newFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.SigmoidBCE{}, 5, 20)
	obj, err := f.m.Objective(f.b)
	require.NoError(t, err)
	var h mat.SymDense
	require.NoError(t, DenseHessian(&h, obj, f.theta, 0))
	assert.Less(t, relErr(&h, f.dense(t, Hessian, nil)), 1e-14)
	assert.Equal(t, len(f.theta), obj.Dim())
	// Func and Grad agree with a tape.
	tp := nn.NewTape(f.m.Net, f.m.Loss)
	tp.Forward(f.theta, f.b.X)
	assert.Equal(t, tp.LossValue(f.b.Y), obj.Func(f.theta))
}

func TestObjectiveErrors(t *testing.T) {
	_, err := FromProblem(optimize.Problem{}, 3)
	assert.Error(t, err)
	f := functions.ExtendedRosenbrock{}
	_, err = FromProblem(optimize.Problem{Func: f.Func}, 0)
	assert.Error(t, err)
	obj, err := FromProblem(optimize.Problem{Func: f.Func, Grad: f.Grad}, 2)
	require.NoError(t, err)
	var h mat.SymDense
	assert.Error(t, DenseHessian(&h, obj, []float64{math.NaN(), 1}, 0))
	var be *BudgetError
	assert.ErrorAs(t, DenseHessian(&h, obj, []float64{1, 1}, 3), &be)
}
