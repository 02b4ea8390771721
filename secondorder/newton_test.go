package secondorder

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/testfunc"
	"github.com/curvkit/curvkit/internal/randmat"
)

func TestDampedNewtonDirectionMatchesSolve(t *testing.T) {
	rnd := rand.New(rand.NewPCG(10, 1))
	a, _ := randmat.SymFromEig(rnd, []float64{0.2, 1, 4, 30})
	g := randmat.Vec(rnd, 4)
	pre := mustDiagonal(t, 1, 2, 3, 4)
	for _, lambda := range []float64{0, 0.5, 10} {
		want := newtonBySolve(t, a, lambda, g)
		for _, tc := range []struct {
			name string
			run  func(d []float64) (StepInfo, error)
		}{
			{"cholesky", func(d []float64) (StepInfo, error) { return newtonStep(d, curvature.NewDense(a), g, lambda) }},
			{"cg", func(d []float64) (StepInfo, error) {
				return newtonStep(d, hidden{curvature.NewDense(a)}, g, lambda)
			}},
			{"pcg", func(d []float64) (StepInfo, error) {
				dn := &DampedNewton{Lambda: lambda, Linear: Linear{Method: CGLinear, Preconditioner: pre}}
				return dn.Direction(d, curvature.NewDense(a), g)
			}},
			{"cholesky-materialised", func(d []float64) (StepInfo, error) {
				dn := &DampedNewton{Lambda: lambda, Linear: Linear{Method: CholeskyLinear}}
				return dn.Direction(d, hidden{curvature.NewDense(a)}, g)
			}},
		} {
			d := make([]float64, 4)
			info, err := tc.run(d)
			require.NoError(t, err, tc.name)
			for i := range d {
				assert.InDelta(t, want[i], d[i], 1e-8*(1+math.Abs(want[i])), "%s λ=%v", tc.name, lambda)
			}
			assert.Less(t, floats.Dot(g, d), 0.0)
			assert.Equal(t, lambda, info.Lambda)
			assert.InDelta(t, -modelValue(a, g, d), info.Decrease, 1e-10)
		}
	}
}

func TestDampedNewtonIndefinite(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 1))
	vals := []float64{-3, -0.5, 2, 5}
	a, q := randmat.SymFromEig(rnd, vals)
	g := randmat.Vec(rnd, 4)
	d := make([]float64, 4)
	for _, op := range []curvature.Operator{curvature.NewDense(a), hidden{curvature.NewDense(a)}} {
		_, err := newtonStep(d, op, g, 0)
		assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
		_, err = newtonStep(d, op, g, 1) // still indefinite
		assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
		// Beyond −λ_min the system is positive definite.
		_, err = newtonStep(d, op, g, 3.5)
		assert.NoError(t, err)

		// RaiseLambda finds a λ > 3 and solves with it.
		dn := &DampedNewton{}
		info, err := dn.Direction(d, op, g)
		require.NoError(t, err)
		assert.Greater(t, info.Lambda, 3.0)
		assert.Less(t, info.Lambda, 1e3)
		assert.InDeltaSlice(t, newtonBySolve(t, a, info.Lambda, g), d, 1e-8)
		assert.True(t, info.NegativeCurvature)
	}
	// AbsEigen: d = −Q(|Λ| + λI)⁻¹Qᵀg with the Q that built the matrix.
	for _, lambda := range []float64{0, 0.7} {
		dn := &DampedNewton{Lambda: lambda, Indefinite: AbsEigen}
		info, err := dn.Direction(d, hidden{curvature.NewDense(a)}, g)
		require.NoError(t, err)
		gh := make([]float64, 4)
		mat.NewVecDense(4, gh).MulVec(q.T(), mat.NewVecDense(4, g))
		for i := range gh {
			gh[i] /= -(math.Abs(vals[i]) + lambda)
		}
		want := make([]float64, 4)
		mat.NewVecDense(4, want).MulVec(q, mat.NewVecDense(4, gh))
		assert.InDeltaSlice(t, want, d, 1e-10)
		assert.Equal(t, 4, info.Products-1, "materialised, plus the product for the decrease")
	}
	// Bad λ.
	for _, l := range []float64{-1, math.NaN(), math.Inf(1)} {
		_, err := newtonStep(d, curvature.NewDense(a), g, l)
		var se *SettingError
		assert.ErrorAs(t, err, &se)
	}
	_, err := newtonStep(d, curvature.NewDense(a), []float64{math.NaN(), 0, 0, 0}, 1)
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
	// A starting λ above the cap, and a floor above it.
	for _, dn := range []*DampedNewton{
		{Lambda: 10, MaxLambda: 1},
		{Lambda: 2e16},
		{MaxLambda: 1, Adaptive: &LevenbergMarquardt{Min: 2}},
		{MaxLambda: math.Inf(1)},
	} {
		_, err := dn.Direction(d, curvature.NewDense(a), g)
		var se *SettingError
		assert.ErrorAs(t, err, &se, "%+v", dn)
	}
	// A budget too small to materialise for Cholesky.
	dn := &DampedNewton{Linear: Linear{Method: CholeskyLinear, Budget: 4}}
	_, err = dn.Direction(d, hidden{curvature.NewDense(a)}, g)
	var be *curvature.BudgetError
	assert.ErrorAs(t, err, &be)
}

// TestLevenbergMarquardtUpdates replays the records of an adaptive run and
// checks each λ against Nielsen's rule.
func TestLevenbergMarquardtUpdates(t *testing.T) {
	x := []float64{-1.2, 1}
	res, err := Minimize(x, rosenObjective(2), &DampedNewton{Lambda: 100, Adaptive: &LevenbergMarquardt{}}, nil)
	require.NoError(t, err)
	require.Equal(t, optimize.GradientThreshold, res.Status)
	nu := 2.0
	rejected := 0
	for _, s := range res.Steps {
		want := 0.0
		if s.Accepted {
			tt := 2*s.Rho - 1
			want = s.Lambda * math.Max(1.0/3, 1-tt*tt*tt)
			nu = 2
		} else {
			want = s.Lambda * nu
			nu *= 2
			rejected++
			assert.LessOrEqual(t, s.Rho, 0.0)
		}
		assert.InDelta(t, math.Max(want, 1e-10), s.NextLambda, 1e-12*want, "step %d", s.Iteration)
	}
	assert.Less(t, res.Steps[len(res.Steps)-1].NextLambda, 1e-3, "λ falls from 100 near the minimum")
	t.Logf("%d steps, %d rejected, %d function evaluations", len(res.Steps), rejected, res.Func)
	// A fixed λ stays fixed.
	x = []float64{-1.2, 1}
	res, err = Minimize(x, rosenObjective(2), &DampedNewton{Lambda: 0.01}, nil)
	require.NoError(t, err)
	for _, s := range res.Steps {
		assert.Equal(t, 0.01, s.NextLambda)
	}
}

func TestDampedNewtonDampingLimit(t *testing.T) {
	// f = −x² is unbounded below with a negative definite Hessian:
	// Levenberg–Marquardt with a small cap runs out of damping or makes
	// progress without ever going uphill; a cap below −λ_min fails at once.
	neg := curvature.Function{N: 1,
		F: func(x []float64) float64 { return -x[0] * x[0] },
		G: func(g, x []float64) { g[0] = -2 * x[0] },
		H: func(h *mat.SymDense, _ []float64) { h.SetSym(0, 0, -2) },
	}
	x := []float64{1}
	_, err := Minimize(x, &neg, &DampedNewton{MaxLambda: 1}, nil)
	assert.ErrorIs(t, err, ErrDampingLimit)
	assert.Equal(t, []float64{1}, x)
}

// nonFiniteCount wraps an objective and counts the evaluations that gave a
// non-finite f.
type nonFiniteCount struct {
	curvature.Objective
	bad int
}

func (o *nonFiniteCount) Func(x []float64) float64 {
	f := o.Objective.Func(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		o.bad++
	}
	return f
}

func (o *nonFiniteCount) Hess(dst *mat.SymDense, x []float64) {
	o.Objective.(curvature.Hessianer).Hess(dst, x)
}

// TestDampedNewtonGulf: on the Gulf research and development function
// from its standard start, full Newton steps land where f is not finite;
// the line search starts again from half the step, and the run reaches the
// minimiser gonum lists, (50, 25, 1.5), as gonum's own Newton method does.
func TestDampedNewtonGulf(t *testing.T) {
	var gulf testfunc.Instance
	for _, in := range testfunc.MoreGarbowHillstrom() {
		if in.Name == "Gulf" {
			gulf = in
		}
	}
	obj, err := curvature.FromProblem(gulf.Problem(), 3)
	require.NoError(t, err)
	counted := &nonFiniteCount{Objective: obj}
	x := append([]float64(nil), gulf.X0...)
	res, err := Minimize(x, counted, &DampedNewton{}, &Settings{GradientThreshold: 1e-9})
	require.NoError(t, err)
	assert.Equal(t, optimize.GradientThreshold, res.Status)
	assert.Positive(t, counted.bad, "no trial with a non-finite f: the test proves nothing")
	assert.InDeltaSlice(t, []float64{50, 25, 1.5}, x, 1e-6)
	gres, err := optimize.Minimize(gulf.Problem(), gulf.X0, &optimize.Settings{GradientThreshold: 1e-9}, &optimize.Newton{})
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{50, 25, 1.5}, gres.X, 1e-6)
}
