package secondorder

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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

// Every objective value SciPy 1.10.1 evaluated, in order, minimising the
// 5-D Rosenbrock function (scipy.optimize.rosen, with rosen_der and
// rosen_hess) from scipyX0 with options={'gtol': 1e-8} (‖∇f‖₂ < 1e-8),
// recorded by wrapping the objective. The runs here stop at ‖∇f‖∞ < 1e-8,
// which on these paths is met at the same point: in the last step ‖∇f‖∞
// drops from above 2e-7 to below 5e-10, so both norms cross 1e-8 there. trust-exact with its defaults
// (k_easy = 0.1, k_hard = 0.2) takes 14 evaluations; its first step has
// ‖p‖ = 1.0286 > Δ = 1, because k_easy lets the nearly-exact solver stop
// off the boundary. With k_easy = k_hard = 1e-10 (patched into
// IterativeSubproblem), it solves the subproblems exactly and takes the 16
// below, which an exact solver must reproduce. trust-ncg (Steihaug–Toint
// with the forcing term min(1/2, √‖g‖)) takes 21.
var (
	scipyTrustExactTight = []float64{848.22, 104.6420667, 1.581777242, 0.3305978078, 0.2942781007,
		0.08522566072, 0.2234305615, 0.1210541556, 0.05770282412, 0.02531164646, 0.006566611021,
		0.001045354839, 3.811118473e-05, 9.157030103e-08, 4.659275219e-13, 1.507297111e-23}
	scipyTrustNCG = []float64{848.22, 115.3571383, 11.18428164, 2.634255542, 0.1150999263,
		0.04223355616, 0.03388062703, 0.03151445291, 0.1213738827, 0.01701150089, 0.005330021072,
		0.004036487642, 0.003958818258, 0.001092049484, 0.0002136231834, 2.122834015e-05,
		1.223087071e-05, 8.651971162e-09, 7.965338433e-10, 3.862920788e-17, 1.232595164e-30}
)

const (
	scipyTrustExactNfev      = 14     // SciPy 1.10.1 trust-exact, default tolerances
	scipyTrustExactFirstNorm = 1.0286 // ‖p‖ of its first step, to the digits recorded
	scipyTrustNCGNfev        = 21     // SciPy 1.10.1 trust-ncg
)

// evaluatedValues returns f(x₀) followed by the objective at every trial.
func evaluatedValues(f0 float64, steps []StepRecord) []float64 {
	v := []float64{f0}
	for _, s := range steps {
		v = append(v, s.TrialF)
	}
	return v
}

func assertSameValues(t *testing.T, want, got []float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		if want[i] < 1e-9 {
			assert.Less(t, got[i], 1e-9, "%s: evaluation %d", msg, i)
			continue
		}
		assert.InDelta(t, want[i], got[i], 1e-7*want[i], "%s: evaluation %d", msg, i)
	}
}

// gonumNewtonEvals measures gonum's Newton on the same problem and
// criterion, ‖∇f‖∞ < 1e-8, which optimize.Minimize checks before Newton's
// own 1e-12.
func gonumNewtonEvals(t *testing.T) optimize.Stats {
	res, err := optimize.Minimize(rosenProblem(), scipyX0, &optimize.Settings{GradientThreshold: 1e-8}, &optimize.Newton{})
	require.NoError(t, err)
	require.Equal(t, optimize.GradientThreshold, res.Status)
	return res.Stats
}

// TestRosenbrock5AgainstSciPy holds the trust region to SciPy's counts on
// the 5-D Rosenbrock function: with the default tolerances the exact
// solver needs at most trust-exact's 14 evaluations, taking its first step
// outside the region as SciPy does; with tight tolerances it takes SciPy's
// tight path value for value; Steihaug–Toint with trust-ncg's forcing cap
// 1/2 takes trust-ncg's path value for value, and with its own default
// (0.35) at most trust-ncg's evaluations.
func TestRosenbrock5AgainstSciPy(t *testing.T) {
	newton := gonumNewtonEvals(t)
	t.Logf("gonum Newton: %d function, %d gradient, %d Hessian evaluations", newton.FuncEvaluations, newton.GradEvaluations, newton.HessEvaluations)
	for _, tc := range []struct {
		name      string
		solver    SubproblemSolver
		want      []float64 // every value evaluated; nil: not recorded
		maxEvals  int
		firstNorm float64 // ‖p‖ of the first step; 0: not checked
	}{
		{"exact-default", &Exact{}, nil, scipyTrustExactNfev, scipyTrustExactFirstNorm},
		{"exact-tight", &Exact{EasyTol: 1e-10, HardTol: 1e-10}, scipyTrustExactTight, len(scipyTrustExactTight), 1},
		{"steihaug-scipy-forcing", &Steihaug{Forcing: 0.5}, scipyTrustNCG, scipyTrustNCGNfev, 0},
		{"steihaug", &Steihaug{}, nil, scipyTrustNCGNfev, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := append([]float64(nil), scipyX0...)
			res, err := Minimize(x, rosenObjective(5), &TrustRegion{Solver: tc.solver}, nil)
			require.NoError(t, err)
			require.Equal(t, optimize.GradientThreshold, res.Status)
			assert.Less(t, res.GradNorm, 1e-8)
			if tc.want != nil {
				assertSameValues(t, tc.want, evaluatedValues(848.22, res.Steps), tc.name)
			}
			if tc.firstNorm != 0 {
				assert.InDelta(t, tc.firstNorm, res.Steps[0].StepNorm, 5e-5, "first step length")
			}
			assert.LessOrEqual(t, res.Func, tc.maxEvals)
			assert.Less(t, res.Func, newton.FuncEvaluations, "fewer evaluations than gonum's Newton")
			for i := range x {
				assert.InDelta(t, 1, x[i], 1e-8)
			}
			t.Logf("%s: %d function, %d gradient, %d Hessian evaluations, %d products, %d factorisations (SciPy default trust-exact %d, trust-ncg %d)",
				tc.name, res.Func, res.Grad, res.Hess, res.Products, res.Factorizations, scipyTrustExactNfev, scipyTrustNCGNfev)
		})
	}
}

// TestGonumMethodMatchesMinimize runs the methods through optimize.Minimize
// and checks they take the same steps as Minimize, with the same counts:
// with their defaults both entry points stop by the same gradient test.
func TestGonumMethodMatchesMinimize(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(obs func(StepRecord)) Stepper
	}{
		{"tr-exact", func(o func(StepRecord)) Stepper { return &TrustRegion{Solver: &Exact{}, Observe: o} }},
		{"tr-steihaug", func(o func(StepRecord)) Stepper { return &TrustRegion{Solver: &Steihaug{}, Observe: o} }},
		{"tr-dogleg", func(o func(StepRecord)) Stepper { return &TrustRegion{Solver: &Dogleg{}, Observe: o} }},
		{"tr-gltr", func(o func(StepRecord)) Stepper { return &TrustRegion{Solver: &GLTR{}, Observe: o} }},
		{"newton-backtracking", func(o func(StepRecord)) Stepper { return &DampedNewton{Observe: o} }},
		{"newton-morethuente", func(o func(StepRecord)) Stepper {
			return &DampedNewton{Linesearcher: &optimize.MoreThuente{}, Observe: o}
		}},
		{"levenberg-marquardt", func(o func(StepRecord)) Stepper {
			return &DampedNewton{Lambda: 1, Adaptive: &LevenbergMarquardt{}, Observe: o}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, x0 := range [][]float64{{-1.2, 1}, scipyX0} {
				n := len(x0)
				x := append([]float64(nil), x0...)
				res, err := Minimize(x, rosenObjective(n), tc.new(nil), nil)
				require.NoError(t, err)
				require.Equal(t, optimize.GradientThreshold, res.Status)

				var recs []StepRecord
				m := tc.new(func(r StepRecord) { recs = append(recs, r) })
				gres, err := optimize.Minimize(rosenProblem(), x0, nil, m)
				require.NoError(t, err)
				assert.Equal(t, res.Stats, *m.stats(), "Stats, rejected trials included")
				assert.Equal(t, optimize.GradientThreshold, gres.Status)
				assert.Equal(t, res.Func, gres.FuncEvaluations, "function evaluations")
				assert.Equal(t, res.Grad, gres.GradEvaluations, "gradient evaluations")
				assert.Equal(t, res.Hess, gres.HessEvaluations, "Hessian evaluations")
				assert.Equal(t, res.Accepted+1, gres.MajorIterations, "major iterations")
				assert.Equal(t, x, gres.X)
				require.Len(t, recs, len(res.Steps))
				for i := range recs {
					assert.Equal(t, res.Steps[i], recs[i], "step %d", i+1)
				}
			}
		})
	}
}

// TestNewtonQuadraticConvergence checks e_{k+1} ≤ C e_k² for undamped
// Newton on the 2-D Rosenbrock function near the minimiser x* = (1, 1).
func TestNewtonQuadraticConvergence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method Stepper
	}{
		{"backtracking", &DampedNewton{}},
		{"morethuente", &DampedNewton{Linesearcher: &optimize.MoreThuente{}}},
		{"trust-region-exact", &TrustRegion{Solver: &Exact{}}},
		{"levenberg-marquardt", &DampedNewton{Lambda: 1e-3, Adaptive: &LevenbergMarquardt{Min: 1e-14}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &tracked{Objective: rosenObjective(2)}
			x := []float64{-1.2, 1}
			_, err := Minimize(x, obj, tc.method, &Settings{GradientThreshold: 1e-13})
			require.NoError(t, err)
			var errs []float64
			for _, p := range obj.points {
				errs = append(errs, math.Hypot(p[0]-1, p[1]-1))
			}
			checked := 0
			for k := 0; k+1 < len(errs); k++ {
				if errs[k] > 1e-2 || errs[k+1] < 1e-14 {
					continue
				}
				ratio := errs[k+1] / (errs[k] * errs[k])
				// The Newton error constant ‖H⁻¹‖·‖∇³f‖/2 at x* is about
				// 250 for this function; a linear rate would blow the ratio
				// up like 1/e_k.
				assert.Less(t, ratio, 1000.0, "k=%d e_k=%g e_k+1=%g", k, errs[k], errs[k+1])
				checked++
			}
			assert.GreaterOrEqual(t, checked, 2, "errors %v", errs)
		})
	}
}

// quadratic is f(x) = ½xᵀAx + bᵀx with its exact Hessian A.
type quadratic struct {
	a *mat.SymDense
	b []float64
}

func (q quadratic) Dim() int { return len(q.b) }
func (q quadratic) Func(x []float64) float64 {
	return modelValue(q.a, q.b, x)
}
func (q quadratic) Grad(g, x []float64) {
	mat.NewVecDense(len(x), g).MulVec(q.a, mat.NewVecDense(len(x), x))
	floats.Add(g, q.b)
}
func (q quadratic) Hess(dst *mat.SymDense, _ []float64) { dst.CopySym(q.a) }

// TestRhoIsOneOnQuadratic: on a quadratic with its exact Hessian the model
// is the function, so every step's ρ is 1 — trust region with any solver
// (also an indefinite quadratic, where the steps run to the boundary) and
// damped Newton with any λ.
func TestRhoIsOneOnQuadratic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 1))
	spd, _ := randmat.SymFromEig(rnd, []float64{0.5, 1, 3, 10})
	indef, _ := randmat.SymFromEig(rnd, []float64{-2, -0.5, 1, 4})
	b := randmat.Vec(rnd, 4)
	for _, tc := range []struct {
		name   string
		a      *mat.SymDense
		method Stepper
	}{
		{"tr-exact", spd, &TrustRegion{Solver: &Exact{}, InitialRadius: 0.1}},
		{"tr-steihaug", spd, &TrustRegion{Solver: &Steihaug{}, InitialRadius: 0.1}},
		{"tr-dogleg", spd, &TrustRegion{Solver: &Dogleg{}, InitialRadius: 0.1}},
		{"tr-cauchy", spd, &TrustRegion{Solver: &Cauchy{}, InitialRadius: 0.1}},
		{"tr-gltr", spd, &TrustRegion{Solver: &GLTR{}, InitialRadius: 0.1}},
		{"tr-gltr-indefinite", indef, &TrustRegion{Solver: &GLTR{}, InitialRadius: 0.1}},
		{"tr-dogleg-indefinite", indef, &TrustRegion{Solver: &Dogleg{}, InitialRadius: 0.1}},
		{"tr-exact-indefinite", indef, &TrustRegion{Solver: &Exact{}, InitialRadius: 0.1}},
		{"tr-steihaug-indefinite", indef, &TrustRegion{Solver: &Steihaug{}, InitialRadius: 0.1}},
		{"newton-fixed-lambda", spd, &DampedNewton{Lambda: 2}},
		{"levenberg-marquardt", spd, &DampedNewton{Lambda: 5, Adaptive: &LevenbergMarquardt{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float64, 4)
			res, err := Minimize(x, quadratic{tc.a, b}, tc.method, &Settings{MaxIterations: 8})
			require.NoError(t, err)
			require.NotEmpty(t, res.Steps)
			for _, s := range res.Steps {
				if s.Predicted < 1e-10 {
					continue // converged: ρ is rounding noise
				}
				// The actual decrease is a difference of two values of f,
				// each rounded at a few hundred ε·|f|: ρ − 1 carries that
				// error over the predicted decrease (it depends on the
				// BLAS's summation order).
				tol := 1e-9 + 1e-13*(1+math.Abs(s.F))/s.Predicted
				assert.InDelta(t, 1, s.Rho, tol, "step %d: predicted %g actual %g", s.Iteration, s.Predicted, s.Actual)
			}
		})
	}
}

// saddle is f(x, y) = x² − y² + y⁴/4: a saddle at the origin, minima at
// (0, ±√2) with f = −1.
type saddle struct{}

func (saddle) Dim() int { return 2 }
func (saddle) Func(x []float64) float64 {
	return x[0]*x[0] - x[1]*x[1] + x[1]*x[1]*x[1]*x[1]/4
}
func (saddle) Grad(g, x []float64) {
	g[0] = 2 * x[0]
	g[1] = -2*x[1] + x[1]*x[1]*x[1]
}
func (saddle) Hess(dst *mat.SymDense, x []float64) {
	dst.SetSym(0, 0, 2)
	dst.SetSym(0, 1, 0)
	dst.SetSym(1, 1, -2+3*x[1]*x[1])
}

// TestSaddleEscape starts next to the saddle, where the gradient is tiny
// and points towards it, and expects every method to reach a minimum.
func TestSaddleEscape(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method Stepper
	}{
		{"tr-exact", &TrustRegion{Solver: &Exact{}}},
		{"tr-steihaug", &TrustRegion{Solver: &Steihaug{}}},
		{"tr-dogleg", &TrustRegion{Solver: &Dogleg{}}},
		{"tr-gltr", &TrustRegion{Solver: &GLTR{}}},
		{"newton-raise-lambda", &DampedNewton{}},
		{"newton-abs-eigen", &DampedNewton{Indefinite: AbsEigen}},
		{"levenberg-marquardt", &DampedNewton{Adaptive: &LevenbergMarquardt{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := []float64{1e-3, 1e-6}
			res, err := Minimize(x, saddle{}, tc.method, &Settings{GradientThreshold: 1e-10})
			require.NoError(t, err)
			assert.Equal(t, optimize.GradientThreshold, res.Status)
			assert.InDelta(t, -1, res.F, 1e-12)
			assert.InDelta(t, math.Sqrt2, math.Abs(x[1]), 1e-8)
		})
	}
	// Exactly at the saddle the gradient vanishes; only the exact solver
	// sees the negative curvature and leaves.
	p := make([]float64, 2)
	h := mat.NewSymDense(2, nil)
	saddle{}.Hess(h, []float64{0, 0})
	info, err := (&Exact{}).Solve(p, curvature.NewDense(h), []float64{0, 0}, 0.5)
	require.NoError(t, err)
	assert.True(t, info.HardCase)
	assert.InDelta(t, 0.5, math.Abs(p[1]), 1e-15)
	assert.InDelta(t, 0.25, info.Decrease, 1e-15) // −m(p) = ½·2·0.5²
}

// TestAcceptedStepsNeverIncrease runs every method on the Rosenbrock
// functions and checks the objective never rises at an accepted step and
// never moves at a rejected one.
func TestAcceptedStepsNeverIncrease(t *testing.T) {
	methods := map[string]func() Stepper{
		"tr-exact":      func() Stepper { return &TrustRegion{Solver: &Exact{}} },
		"tr-steihaug":   func() Stepper { return &TrustRegion{Solver: &Steihaug{}} },
		"tr-dogleg":     func() Stepper { return &TrustRegion{Solver: &Dogleg{}} },
		"tr-cauchy":     func() Stepper { return &TrustRegion{Solver: &Cauchy{}} },
		"tr-gltr":       func() Stepper { return &TrustRegion{Solver: &GLTR{}} },
		"tr-big-radius": func() Stepper { return &TrustRegion{InitialRadius: 100, Eta: 1e-8} },
		"newton":        func() Stepper { return &DampedNewton{} },
		"newton-abs":    func() Stepper { return &DampedNewton{Indefinite: AbsEigen} },
		"newton-cg":     func() Stepper { return &DampedNewton{Linear: Linear{Method: CGLinear}} },
		"lm":            func() Stepper { return &DampedNewton{Adaptive: &LevenbergMarquardt{}} },
	}
	for name, mk := range methods {
		for _, x0 := range [][]float64{{-1.2, 1}, scipyX0, {2, -2, 2}} {
			x := append([]float64(nil), x0...)
			res, err := Minimize(x, rosenObjective(len(x)), mk(), &Settings{MaxIterations: 300})
			require.NoError(t, err, name)
			prev := rosenObjective(len(x)).Func(x0)
			for _, s := range res.Steps {
				if s.Accepted {
					// No increase beyond f's rounding, which the trust
					// region's ratio allows (10ε|f|).
					assert.LessOrEqual(t, s.F, prev+10*0x1p-52*math.Abs(prev), "%s step %d", name, s.Iteration)
					assert.Equal(t, s.TrialF, s.F)
				} else {
					assert.Equal(t, prev, s.F, "%s step %d", name, s.Iteration)
					assert.Greater(t, s.TrialF, prev-0.15*s.Predicted-1e-300)
				}
				prev = s.F
			}
		}
	}
}

// TestNaNGradientStopsAtLastGoodPoint injects a NaN gradient once the
// iterates pass x₀ = 0 on the 2-D Rosenbrock path from (−1.2, 1), and
// checks the run stops with curvature.ErrNonFinite and leaves x at the last
// accepted point — through Minimize and through optimize.Minimize. (A line
// search that evaluates the gradient at trial points, as MoreThuente does,
// treats a NaN there as it treats a NaN f: TestNonFiniteTrialRejected.)
func TestNaNGradientStopsAtLastGoodPoint(t *testing.T) {
	past := func(x []float64) bool { return x[0] > 0 }
	for mname, mk := range trialMethods() {
		if mname == "newton-mt" {
			continue
		}
		t.Run(mname, func(t *testing.T) {
			obj := &tracked{Objective: rosenObjective(2), nanGrad: past}
			x := []float64{-1.2, 1}
			res, err := Minimize(x, obj, mk(), nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, curvature.ErrNonFinite)
			assert.Equal(t, optimize.Failure, res.Status)
			// The last good point is the last one whose gradient was
			// finite.
			good := obj.points[len(obj.points)-2]
			assert.Equal(t, good, x)
			assert.False(t, past(x))
			assert.Equal(t, obj.Objective.Func(x), res.F)

			p := curvature.Problem(obj)
			gres, gerr := optimize.Minimize(p, []float64{-1.2, 1}, nil, mk())
			require.Error(t, gerr)
			assert.ErrorIs(t, gerr, curvature.ErrNonFinite)
			assert.Equal(t, good, gres.X)
		})
	}
}

// trialMethods are the methods that evaluate f at trial points.
func trialMethods() map[string]func() Stepper {
	return map[string]func() Stepper{
		"tr-exact":    func() Stepper { return &TrustRegion{Solver: &Exact{}} },
		"tr-steihaug": func() Stepper { return &TrustRegion{Solver: &Steihaug{}} },
		"tr-dogleg":   func() Stepper { return &TrustRegion{Solver: &Dogleg{}} },
		"tr-gltr":     func() Stepper { return &TrustRegion{Solver: &GLTR{}} },
		"newton":      func() Stepper { return &DampedNewton{} },
		"newton-mt":   func() Stepper { return &DampedNewton{Linesearcher: &optimize.MoreThuente{}} },
		"lm":          func() Stepper { return &DampedNewton{Adaptive: &LevenbergMarquardt{}} },
	}
}

// wall is f(x) = cos x + exp(exp(20(x − 2))), which overflows to +Inf
// beyond x ≈ 2.33; from x = 1.5 the model's negative curvature sends the
// first trials over the wall.
type wall struct{}

func (wall) Dim() int { return 1 }
func (wall) Func(x []float64) float64 {
	return math.Cos(x[0]) + math.Exp(math.Exp(20*(x[0]-2)))
}
func (wall) Grad(g, x []float64) {
	e := math.Exp(20 * (x[0] - 2))
	g[0] = -math.Sin(x[0]) + 20*e*math.Exp(e)
}
func (wall) Hess(dst *mat.SymDense, x []float64) {
	e := math.Exp(20 * (x[0] - 2))
	dst.SetSym(0, 0, -math.Cos(x[0])+400*e*math.Exp(e)*(1+e))
}

// TestNonFiniteTrialRejected: a trial whose f is +Inf is rejected like any
// other — the trust region shrinks its radius, damped Newton's line search
// backtracks, Levenberg–Marquardt raises λ — and every method reaches the
// minimiser of the wall function, x* with f′(x*) = 0 found by bisection,
// through both entry points. SciPy 1.10.1's trust-ncg takes 9 evaluations
// from 1.5 (its trust-exact fails: it forms the Hessian at the trial point
// and refuses the infinite one).
func TestNonFiniteTrialRejected(t *testing.T) {
	lo, hi := 1.5, 2.2 // f′(1.5) < 0 < f′(2.2)
	g := []float64{0}
	for k := 0; k < 200; k++ {
		mid := []float64{lo + 0.5*(hi-lo)}
		wall{}.Grad(g, mid)
		if g[0] < 0 {
			lo = mid[0]
		} else {
			hi = mid[0]
		}
	}
	for mname, mk := range trialMethods() {
		t.Run(mname, func(t *testing.T) {
			x := []float64{1.5}
			res, err := Minimize(x, wall{}, mk(), nil)
			require.NoError(t, err)
			assert.Equal(t, optimize.GradientThreshold, res.Status)
			assert.InDelta(t, lo, x[0], 1e-9)
			inf := 0
			for _, s := range res.Steps {
				if math.IsInf(s.TrialF, 1) {
					inf++
					assert.False(t, s.Accepted)
				}
			}
			if strings.HasPrefix(mname, "tr-") {
				assert.Positive(t, inf, "no trial over the wall")
				assert.LessOrEqual(t, res.Func, 9, "SciPy's trust-ncg takes 9")
			}
			gres, err := optimize.Minimize(curvature.Problem(wall{}), []float64{1.5}, nil, mk())
			require.NoError(t, err)
			assert.Equal(t, optimize.GradientThreshold, gres.Status)
			assert.Equal(t, x, gres.X)
		})
	}
	// NaN is treated as +Inf: on the 2-D Rosenbrock function with NaN past
	// x₀ = 0, no method accepts a point there or stops with an error
	// wrapping ErrNonFinite; the runs crawl to the edge of the region. (A
	// line search's rejected trials stay inside its step's record.)
	past := func(x []float64) bool { return x[0] > 0 }
	for mname, mk := range trialMethods() {
		t.Run("nan/"+mname, func(t *testing.T) {
			obj := &tracked{Objective: rosenObjective(2), nanFunc: past}
			x := []float64{-1.2, 1}
			res, err := Minimize(x, obj, mk(), &Settings{MaxIterations: 200})
			assert.NotErrorIs(t, err, curvature.ErrNonFinite)
			assert.False(t, past(x))
			nan := 0
			for _, s := range res.Steps {
				if math.IsNaN(s.TrialF) {
					nan++
					assert.False(t, s.Accepted)
				}
				assert.False(t, math.IsNaN(s.F))
			}
			if !strings.HasPrefix(mname, "newton") {
				assert.Positive(t, nan)
			}
		})
	}
}

// TestBadSettings checks that bad settings are errors before anything is
// evaluated, through Minimize and optimize.Minimize.
func TestBadSettings(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		method Stepper
	}{
		{"negative radius", &TrustRegion{InitialRadius: -1}},
		{"NaN radius", &TrustRegion{InitialRadius: nan}},
		{"infinite radius", &TrustRegion{InitialRadius: math.Inf(1)}},
		{"max below initial", &TrustRegion{InitialRadius: 2, MaxRadius: 1}},
		{"negative max radius", &TrustRegion{MaxRadius: -5}},
		{"eta 1/4", &TrustRegion{Eta: 0.25}},
		{"eta negative", &TrustRegion{Eta: -0.1}},
		{"eta NaN", &TrustRegion{Eta: nan}},
		{"steihaug tol", &TrustRegion{Solver: &Steihaug{Tol: 1.5}}},
		{"steihaug max iterations", &TrustRegion{Solver: &Steihaug{MaxIterations: -1}}},
		{"dogleg linear tol", &TrustRegion{Solver: &Dogleg{Linear: Linear{Tol: -1}}}},
		{"steihaug forcing", &TrustRegion{Solver: &Steihaug{Forcing: 1}}},
		{"gltr interior tol", &TrustRegion{Solver: &GLTR{InteriorTol: 1}}},
		{"NaN lambda", &DampedNewton{Lambda: nan}},
		{"negative lambda", &DampedNewton{Lambda: -1}},
		{"infinite lambda", &DampedNewton{Lambda: math.Inf(1)}},
		{"increase below 1", &DampedNewton{Increase: 0.5}},
		{"unknown strategy", &DampedNewton{Indefinite: Indefinite(7)}},
		{"unknown linear method", &DampedNewton{Linear: Linear{Method: LinearMethod(9)}}},
		{"lm eta", &DampedNewton{Adaptive: &LevenbergMarquardt{Eta: 0.5}}},
		{"lm min NaN", &DampedNewton{Adaptive: &LevenbergMarquardt{Min: nan}}},
		{"negative gradient threshold", &TrustRegion{GradStopThreshold: -1e-8}},
		{"infinite gradient threshold", &DampedNewton{GradStopThreshold: math.Inf(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &tracked{Objective: rosenObjective(2)}
			x := []float64{-1.2, 1}
			_, err := Minimize(x, obj, tc.method, nil)
			require.Error(t, err)
			var se *SettingError
			assert.True(t, errors.As(err, &se), "%v", err)
			assert.Empty(t, obj.points, "nothing evaluated")
			assert.Equal(t, []float64{-1.2, 1}, x)
			_, err = optimize.Minimize(rosenProblem(), x, nil, tc.method)
			assert.Error(t, err)
		})
	}
	for _, s := range []*Settings{{GradientThreshold: -1}, {GradientThreshold: math.Inf(1)}, {MaxIterations: -1}} {
		_, err := Minimize([]float64{0, 0}, rosenObjective(2), &TrustRegion{}, s)
		assert.Error(t, err)
	}
	_, err := Minimize([]float64{math.NaN(), 0}, rosenObjective(2), &TrustRegion{}, nil)
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
}

// TestLimits stops runs by gonum's evaluation and iteration limits, which
// end the run in the middle of a step, and by Minimize's own.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings optimize.Settings
		want     optimize.Status
	}{
		{"function evaluations", optimize.Settings{FuncEvaluations: 5}, optimize.FunctionEvaluationLimit},
		{"Hessian evaluations", optimize.Settings{HessEvaluations: 3}, optimize.HessianEvaluationLimit},
		{"major iterations", optimize.Settings{MajorIterations: 4}, optimize.IterationLimit},
	} {
		for _, m := range []Stepper{&TrustRegion{}, &DampedNewton{}, &DampedNewton{Adaptive: &LevenbergMarquardt{}}} {
			s := tc.settings
			res, err := optimize.Minimize(rosenProblem(), []float64{-1.2, 1}, &s, m)
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.want, res.Status, tc.name)
			assert.Less(t, res.F, 24.2, tc.name)
		}
	}
	// Known initial values are used, not evaluated again.
	f0 := rosenProblem().Func([]float64{-1.2, 1})
	g0 := make([]float64, 2)
	rosenProblem().Grad(g0, []float64{-1.2, 1})
	h0 := mat.NewSymDense(2, nil)
	rosen.Hess(h0, []float64{-1.2, 1})
	plain, err := optimize.Minimize(rosenProblem(), []float64{-1.2, 1}, nil, &TrustRegion{})
	require.NoError(t, err)
	init, err := optimize.Minimize(rosenProblem(), []float64{-1.2, 1}, &optimize.Settings{
		InitValues: &optimize.Location{F: f0, Gradient: g0, Hessian: h0},
	}, &TrustRegion{})
	require.NoError(t, err)
	assert.Equal(t, plain.FuncEvaluations-1, init.FuncEvaluations)
	assert.Equal(t, plain.GradEvaluations-1, init.GradEvaluations)
	assert.Equal(t, plain.HessEvaluations-1, init.HessEvaluations)
	assert.Equal(t, plain.X, init.X)

	x := []float64{-1.2, 1}
	res, err := Minimize(x, rosenObjective(2), &TrustRegion{}, &Settings{MaxIterations: 3})
	require.NoError(t, err)
	assert.Equal(t, optimize.IterationLimit, res.Status)
	assert.Equal(t, 3, res.Iterations)
	res, err = Minimize(x, rosenObjective(2), &TrustRegion{}, &Settings{FuncEvaluations: 4})
	require.NoError(t, err)
	assert.Equal(t, optimize.FunctionEvaluationLimit, res.Status)
	assert.Equal(t, 4, res.Func)
}

// TestMatrixFreeCurvature gives the methods the Hessian only through
// products (Settings.Curvature) and expects the same path as with the
// dense Hessian; the exact solver then materialises M once per point.
func TestMatrixFreeCurvature(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() Stepper
	}{
		{"tr-exact", func() Stepper { return &TrustRegion{Solver: &Exact{}} }},
		{"tr-steihaug", func() Stepper { return &TrustRegion{Solver: &Steihaug{}} }},
		{"tr-gltr", func() Stepper { return &TrustRegion{Solver: &GLTR{}} }},
		{"tr-dogleg-cholesky", func() Stepper { return &TrustRegion{Solver: &Dogleg{Linear: Linear{Method: CholeskyLinear}}} }},
		{"newton-cg", func() Stepper { return &DampedNewton{Linear: Linear{Method: CGLinear}} }},
		{"newton-abs-eigen", func() Stepper { return &DampedNewton{Indefinite: AbsEigen} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := rosenObjective(5)
			dense := append([]float64(nil), scipyX0...)
			want, err := Minimize(dense, obj, tc.new(), nil)
			require.NoError(t, err)
			free := append([]float64(nil), scipyX0...)
			got, err := Minimize(free, obj, tc.new(), &Settings{Curvature: func(x []float64) (curvature.Operator, error) {
				h := mat.NewSymDense(5, nil)
				rosen.Hess(h, x)
				return hidden{curvature.NewDense(h)}, nil
			}})
			require.NoError(t, err)
			assert.Equal(t, want.Func, got.Func)
			assert.Equal(t, want.Iterations, got.Iterations)
			assert.InDeltaSlice(t, dense, free, 1e-8)
			if tc.name == "tr-exact" {
				// n products per point at which M was formed (the last one
				// is never used), none for re-solves after rejections.
				assert.Equal(t, 5*(got.Hess-1), got.Products)
			}
		})
	}
}

// TestGradientThreshold: both entry points test ‖∇f‖∞ against one default.
// From x₀ with ‖∇f(x₀)‖∞ = 0.9·10⁻⁸ < 10⁻⁸ < ‖∇f(x₀)‖₂ = 1.8·10⁻⁸ on
// f = ½‖x‖², both stop before the first step. A NaN threshold disables the
// test: on the 2-D Rosenbrock function the run that converges in K steps
// by default hits the iteration limit at K instead.
func TestGradientThreshold(t *testing.T) {
	a := mat.NewSymDense(4, []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1})
	q := quadratic{a, make([]float64, 4)}
	x0 := []float64{0.9e-8, -0.9e-8, 0.9e-8, -0.9e-8}
	for _, m := range []func() Stepper{
		func() Stepper { return &TrustRegion{} },
		func() Stepper { return &DampedNewton{} },
	} {
		x := append([]float64(nil), x0...)
		res, err := Minimize(x, q, m(), nil)
		require.NoError(t, err)
		assert.Equal(t, optimize.GradientThreshold, res.Status)
		assert.Zero(t, res.Iterations)
		assert.Equal(t, 0.9e-8, res.GradNorm, "the ∞-norm")
		gres, err := optimize.Minimize(curvature.Problem(q), x0, nil, m())
		require.NoError(t, err)
		assert.Equal(t, optimize.GradientThreshold, gres.Status)
		assert.Zero(t, gres.MajorIterations, "no step")
	}

	x := []float64{-1.2, 1}
	res, err := Minimize(x, rosenObjective(2), &TrustRegion{}, nil)
	require.NoError(t, err)
	require.Equal(t, optimize.GradientThreshold, res.Status)
	k := res.Iterations
	x = []float64{-1.2, 1}
	res, err = Minimize(x, rosenObjective(2), &TrustRegion{}, &Settings{GradientThreshold: math.NaN(), MaxIterations: k})
	require.NoError(t, err)
	assert.Equal(t, optimize.IterationLimit, res.Status)
	assert.Less(t, res.GradNorm, 1e-8, "past the default threshold")
	gres, err := optimize.Minimize(rosenProblem(), []float64{-1.2, 1},
		&optimize.Settings{MajorIterations: res.Accepted + 1}, &TrustRegion{GradStopThreshold: math.NaN()})
	require.NoError(t, err)
	assert.Equal(t, optimize.IterationLimit, gres.Status)
	assert.Equal(t, x, gres.X)
}

// TestStationaryToRounding runs past the default gradient test (disabled
// with NaN) on the 10-D Rosenbrock function: each method ends when its
// step can no longer change x, as converged (MethodConverge, no error), at
// a point whose gradient is at the level of its rounding error — about
// 400·ε·|x|² per term, 10⁻¹³ — not as a Failure; optimize.Minimize reports
// the same status and the method's Stats count the rejected trials its
// own Stats do not.
func TestStationaryToRounding(t *testing.T) {
	x0 := make([]float64, 10)
	for i := range x0 {
		x0[i] = []float64{-1.2, 1}[i%2]
	}
	for _, tc := range []struct {
		name string
		new  func() Stepper
	}{
		{"tr-exact", func() Stepper { return &TrustRegion{Solver: &Exact{}, GradStopThreshold: math.NaN()} }},
		{"tr-steihaug", func() Stepper { return &TrustRegion{Solver: &Steihaug{}, GradStopThreshold: math.NaN()} }},
		{"tr-gltr", func() Stepper { return &TrustRegion{Solver: &GLTR{}, GradStopThreshold: math.NaN()} }},
		{"tr-dogleg", func() Stepper { return &TrustRegion{Solver: &Dogleg{}, GradStopThreshold: math.NaN()} }},
		{"newton", func() Stepper { return &DampedNewton{GradStopThreshold: math.NaN()} }},
		{"lm", func() Stepper {
			return &DampedNewton{Adaptive: &LevenbergMarquardt{}, GradStopThreshold: math.NaN()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := append([]float64(nil), x0...)
			res, err := Minimize(x, rosenObjective(10), tc.new(), &Settings{GradientThreshold: math.NaN()})
			require.NoError(t, err)
			assert.Equal(t, optimize.MethodConverge, res.Status)
			assert.Less(t, res.GradNorm, 1e-9)

			m := tc.new()
			gres, err := optimize.Minimize(rosenProblem(), x0, nil, m)
			require.NoError(t, err)
			assert.Equal(t, optimize.MethodConverge, gres.Status)
			assert.False(t, gres.Status.Early())
			assert.Equal(t, x, gres.X)
			st := m.stats()
			assert.Equal(t, res.Stats, *st, "the method's Stats are the Result's")
			assert.Equal(t, gres.FuncEvaluations, st.Func)
			assert.Equal(t, gres.MajorIterations, st.Accepted+1)
			assert.GreaterOrEqual(t, st.Iterations, st.Accepted)
		})
	}
}

// funcPoints wraps an objective and counts the objective's evaluations at
// each point.
type funcPoints struct {
	curvature.Objective
	seen map[string]int
}

func (f *funcPoints) Func(x []float64) float64 {
	f.seen[fmt.Sprint(x)]++
	return f.Objective.Func(x)
}

func (f *funcPoints) Hess(dst *mat.SymDense, x []float64) {
	f.Objective.(curvature.Hessianer).Hess(dst, x)
}

// TestNoTrialEvaluatedTwice runs every solver on the Moré–Garbow–Hillstrom
// set and checks that no point is evaluated twice, although rejected
// interior steps shorter than a quarter of the radius — which Δ/4 alone
// would propose again — occur.
func TestNoTrialEvaluatedTwice(t *testing.T) {
	shortRejected := 0
	for _, in := range testfunc.MoreGarbowHillstrom() {
		for _, s := range []struct {
			name string
			new  func() SubproblemSolver
		}{
			{"exact", func() SubproblemSolver { return &Exact{} }},
			{"steihaug", func() SubproblemSolver { return &Steihaug{} }},
			{"dogleg", func() SubproblemSolver { return &Dogleg{} }},
			{"gltr", func() SubproblemSolver { return &GLTR{} }},
		} {
			obj, err := curvature.FromProblem(in.Problem(), in.Dim())
			require.NoError(t, err)
			fp := &funcPoints{Objective: obj, seen: map[string]int{}}
			x := append([]float64(nil), in.X0...)
			res, err := Minimize(x, fp, &TrustRegion{Solver: s.new()}, &Settings{GradientThreshold: 1e-6, MaxIterations: 5000})
			require.NoError(t, err, "%s on %s", s.name, in.Name)
			for p, k := range fp.seen {
				assert.Equal(t, 1, k, "%s on %s: %s evaluated %d times", s.name, in.Name, p, k)
			}
			assert.Len(t, fp.seen, res.Func, "%s on %s", s.name, in.Name)
			for _, st := range res.Steps {
				if !st.Accepted && !st.Solve.Boundary && st.StepNorm <= st.Radius/4 {
					shortRejected++
				}
			}
		}
	}
	assert.Positive(t, shortRejected, "no rejected interior step shorter than Δ/4: the test proves nothing")
	t.Logf("%d rejected interior steps shorter than Δ/4", shortRejected)
}
