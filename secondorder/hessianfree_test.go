package secondorder

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/randmat"
)

// firstRows returns a copy of the first n samples of set as a batch.
func firstRows(set *data.Set, n int) curvature.Batch {
	_, d := set.X.Dims()
	_, t := set.Y.Dims()
	return curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, n, 0, d)), Y: mat.DenseCopyOf(set.Y.Slice(0, n, 0, t))}
}

// dampedDenseSolve returns (M + λI)⁻¹v by a Cholesky factorisation of the
// dense matrix, independent of every solver under test.
func dampedDenseSolve(t testing.TB, m mat.Symmetric, lambda float64, v []float64) []float64 {
	t.Helper()
	n := m.SymmetricDim()
	var c mat.Cholesky
	require.True(t, c.Factorize(randmat.Shifted(m, lambda)), "M + λI is positive definite")
	x := mat.NewVecDense(n, nil)
	require.NoError(t, c.SolveVecTo(x, mat.NewVecDense(n, append([]float64(nil), v...))))
	return x.RawVector().Data
}

// batchGradient returns the gradient of the mean loss from the objective
// of package curvature.
func batchGradient(t testing.TB, m *curvature.Model, theta []float64, b curvature.Batch) []float64 {
	t.Helper()
	obj, err := m.Objective(b)
	require.NoError(t, err)
	g := make([]float64, len(theta))
	obj.Grad(g, theta)
	return g
}

// relDiff returns ‖a − b‖/‖b‖.
func relDiff(a, b []float64) float64 {
	d := make([]float64, len(a))
	floats.SubTo(d, a, b)
	return floats.Norm(d, 2) / floats.Norm(b, 2)
}

// Run to convergence, HF's conjugate gradients solve (G + λI)d = −g as a
// Cholesky factorisation of the dense GGN does, with or without a
// preconditioner and from a cold or a warm start. With the exact damped
// matrix as the preconditioner, CG converges in one iteration.
func TestHessianFreeCGMatchesDenseSolve(t *testing.T) {
	const lambda = 0.1
	m, theta0, set := digitsModel(t, 4, 11)
	b := firstRows(set, 40)
	// The dense GGN, applied as (G + λI)⁻¹ with the step's λ.
	exact := DenseCurvature(m, curvature.GGN, nil)
	for _, c := range []struct {
		name    string
		set     HessianFreeSettings
		steps   int // the solve of the last one is checked
		wantOne bool
	}{
		{"plain", HessianFreeSettings{}, 1, false},
		{"diagonal-preconditioner", HessianFreeSettings{DiagonalPreconditioner: true}, 1, false},
		{"warm-start", HessianFreeSettings{}, 2, false},
		{"warm-preconditioned", HessianFreeSettings{DiagonalPreconditioner: true, PreconditionerExponent: 1}, 2, false},
		{"exact-preconditioner", HessianFreeSettings{Preconditioner: exact}, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.set
			s.Damping, s.FixedDamping = lambda, true
			s.MaxCG, s.ProgressTol, s.Tol = 2000, math.NaN(), 1e-13
			s.Backtracking = BacktrackNone
			h, err := NewHessianFree(m, &s)
			require.NoError(t, err)
			theta := append([]float64(nil), theta0...)
			var rec Record
			var at []float64
			for k := 0; k < c.steps; k++ {
				at = append([]float64(nil), theta...)
				rec, err = h.Step(theta, b)
				require.NoError(t, err)
			}
			assert.Equal(t, HFStopResidual, rec.Stop)
			if c.wantOne {
				assert.Equal(t, 1, rec.CGIterations)
			}
			G, err := m.Dense(curvature.GGN, at, b, nil)
			require.NoError(t, err)
			g := batchGradient(t, m, at, b)
			floats.Scale(-1, g)
			want := dampedDenseSolve(t, G, lambda, g)
			assert.Less(t, relDiff(h.Solution(), want), 1e-9, "after %d CG iterations", rec.CGIterations)
			if rec.Accepted {
				step := make([]float64, len(theta))
				floats.SubTo(step, theta, at)
				assert.Less(t, relDiff(step, want), 1e-9, "the step is the last iterate without backtracking")
			}
		})
	}
}

// hfOracle runs plain conjugate gradients on A x = −g from x = 0 with
// Martens' stopping rule (φ evaluated directly as ½xᵀAx + gᵀx, not from the
// residual), and returns the iteration it stopped at and the iterates
// saved at iterations ⌈1.3ʲ⌉ and the last, keyed by iteration.
func hfOracle(a curvature.Operator, g []float64, maxCG int, eps float64) (int, map[int][]float64) {
	n := len(g)
	schedule := map[int]bool{}
	for j := 0.0; math.Pow(1.3, j) <= float64(maxCG); j++ {
		schedule[int(math.Ceil(math.Pow(1.3, j)))] = true
	}
	x := make([]float64, n)
	r := make([]float64, n)
	floats.ScaleTo(r, -1, g)
	d := append([]float64(nil), r...)
	ad := make([]float64, n)
	ax := make([]float64, n)
	phis := []float64{0}
	saved := map[int][]float64{}
	it := 0
	for i := 1; i <= maxCG; i++ {
		a.MulVecTo(ad, d)
		rr := floats.Dot(r, r)
		alpha := rr / floats.Dot(d, ad)
		floats.AddScaled(x, alpha, d)
		floats.AddScaled(r, -alpha, ad)
		a.MulVecTo(ax, x)
		phi := 0.5*floats.Dot(x, ax) + floats.Dot(g, x)
		phis = append(phis, phi)
		it = i
		if schedule[i] {
			saved[i] = append([]float64(nil), x...)
		}
		k := max(10, int(math.Ceil(float64(i)/10)))
		if i > k && phi < 0 && (phi-phis[i-k])/phi < float64(k)*eps {
			break
		}
		floats.AddScaledTo(d, r, floats.Dot(r, r)/rr, d)
	}
	saved[it] = append([]float64(nil), x...)
	return it, saved
}

// shifted is the operator v ↦ Mv + λv.
type shifted struct {
	op     curvature.Operator
	lambda float64
}

func (s shifted) Dim() int { return s.op.Dim() }
func (s shifted) MulVecTo(dst, v []float64) {
	s.op.MulVecTo(dst, v)
	floats.AddScaled(dst, s.lambda, v)
}

// CG backtracking takes the saved iterate the rule asks for: checked
// against an independent CG with Martens' stopping rule on the GGN
// operator of package curvature, and the batch objective of package
// curvature at every saved iterate. The oracle uses the same GGN products
// as HF (not the dense GGN) because CG's mid-run iterates amplify rounding:
// with λ = 0.01 they differ by 5e-4 between dense and matrix-free products
// at iteration 18 while the last agree to 4e-8, enough to flip a
// comparison of objective values. The case was picked (by a scan over
// seeds) so that the three rules choose three different iterates, with
// objective values at least 1.5e-3 apart where the rules compare them.
func TestHessianFreeBacktracking(t *testing.T) {
	const lambda = 1e-2
	m, theta0, set := digitsModel(t, 6, 26)
	b := firstRows(set, 100)
	op, err := m.Operator(curvature.GGN, theta0, b, nil)
	require.NoError(t, err)
	g := batchGradient(t, m, theta0, b)
	iters, saved := hfOracle(shifted{op, lambda}, g, 250, 5e-4)
	obj, err := m.Objective(b)
	require.NoError(t, err)
	f := map[int]float64{}
	var order []int // saved iterations, ascending
	for i, x := range saved {
		trial := make([]float64, len(x))
		floats.AddTo(trial, theta0, x)
		f[i] = obj.Func(trial)
		order = append(order, i)
	}
	slices.Sort(order)
	last := order[len(order)-1]
	// Martens: walk back while the earlier iterate is strictly better.
	martens := len(order) - 1
	for martens > 0 && f[order[martens-1]] < f[order[martens]] {
		martens--
	}
	best := len(order) - 1
	for k := len(order) - 2; k >= 0; k-- {
		if f[order[k]] < f[order[best]] {
			best = k
		}
	}
	t.Logf("oracle: %d iterations, saved %v, chosen %d (Martens) %d (best)", iters, order, order[martens], order[best])
	require.Less(t, order[martens], last, "the case must make backtracking move")
	require.Less(t, order[best], order[martens], "the case must tell the rules apart")

	for _, c := range []struct {
		name string
		mode HFBacktracking
		want int
	}{
		{"martens", BacktrackMartens, order[martens]},
		{"best", BacktrackBest, order[best]},
		{"none", BacktrackNone, last},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := NewHessianFree(m, &HessianFreeSettings{Damping: lambda, Backtracking: c.mode})
			require.NoError(t, err)
			theta := append([]float64(nil), theta0...)
			rec, err := h.Step(theta, b)
			require.NoError(t, err)
			assert.Equal(t, iters, rec.CGIterations)
			assert.Equal(t, HFStopProgress, rec.Stop)
			assert.Equal(t, c.want, rec.Chosen)
			assert.InDelta(t, f[c.want], rec.TrialLoss, 1e-12)
			if f[c.want] < obj.Func(theta0) {
				require.True(t, rec.Accepted)
				step := make([]float64, len(theta))
				floats.SubTo(step, theta, theta0)
				assert.Less(t, relDiff(step, saved[c.want]), 1e-12)
			} else {
				assert.False(t, rec.Accepted, "an iterate that raises f is not taken")
				assert.Equal(t, theta0, theta)
			}
		})
	}
}

// linearMSE returns a single affine layer with the MSE loss, whose
// objective is exactly quadratic in θ with Hessian = GGN, and a random
// regression batch.
func linearMSE(t testing.TB, seed uint64) (*curvature.Model, []float64, curvature.Batch) {
	t.Helper()
	net, err := nn.NewMLP([]int{5, 3}, []string{"identity"})
	require.NoError(t, err)
	rnd := rand.New(rand.NewPCG(seed, 7))
	const n = 30
	x, y := mat.NewDense(n, 5, nil), mat.NewDense(n, 3, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < 5; j++ {
			x.Set(i, j, rnd.NormFloat64())
		}
		for j := 0; j < 3; j++ {
			y.Set(i, j, rnd.NormFloat64()+float64(j))
		}
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rnd)
	return &curvature.Model{Net: net, Loss: nn.MSE{}}, theta, curvature.Batch{X: x, Y: y}
}

// On an exactly quadratic objective with its exact curvature the model
// predicts the change of f exactly: ρ = 1, and λ shrinks by 2/3, on every
// step until the minimum is reached.
func TestHessianFreeRhoQuadratic(t *testing.T) {
	for _, c := range []struct {
		name string
		set  HessianFreeSettings
	}{
		{"large-damping", HessianFreeSettings{Damping: 10}},
		{"small-damping", HessianFreeSettings{Damping: 1e-3}},
		{"preconditioned", HessianFreeSettings{Damping: 0.5, DiagonalPreconditioner: true}},
		{"line-search", HessianFreeSettings{Damping: 0.1, LineSearch: true, Backtracking: BacktrackBest}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, theta, b := linearMSE(t, 3)
			h, err := NewHessianFree(m, &c.set)
			require.NoError(t, err)
			obj, err := m.Objective(b)
			require.NoError(t, err)
			for step := 0; step < 3; step++ {
				before := append([]float64(nil), theta...)
				lam := h.Lambda()
				rec, err := h.Step(theta, b)
				require.NoError(t, err)
				if step > 0 && math.Abs(rec.Predicted) < 1e-8*rec.Loss {
					break // at the minimum: f's change is rounding
				}
				require.True(t, rec.Accepted)
				assert.InDelta(t, 1, rec.Rho, 1e-8, "step %d", step)
				assert.InDelta(t, lam*2/3, rec.NextLambda, 1e-15*lam)
				// The prediction is the exact change of f.
				assert.InDelta(t, obj.Func(theta)-obj.Func(before), rec.Predicted, 1e-10*math.Abs(rec.Predicted))
				assert.InDelta(t, obj.Func(theta), rec.NewLoss, 1e-12)
			}
		})
	}
}

// HF trains a 64-16-10 tanh classifier on mini-batches of the digits: 30
// steps take the full-data loss from about 2.55 to below 0.7 (each
// variant over six batch orders ends between 0.02 and 0.58: HF's loss is
// not monotone from step to step; K-FAC-preconditioned CG ends between
// 0.03 and 0.18, unpreconditioned between 0.06 and 0.53), and every
// record obeys the Levenberg–Marquardt rule and the acceptance rule. K-FAC
// and EKFAC precondition CG with the step's λ, as any CurvatureFunc does.
func TestHessianFreeTrainsDigits(t *testing.T) {
	for _, c := range []struct {
		name string
		set  HessianFreeSettings
		pre  func(m *curvature.Model) CurvatureFunc // sets set.Preconditioner
	}{
		{"default", HessianFreeSettings{}, nil},
		{"diagonal-preconditioner", HessianFreeSettings{DiagonalPreconditioner: true}, nil},
		{"kfac-preconditioner", HessianFreeSettings{}, func(m *curvature.Model) CurvatureFunc { return KFACCurvature(m, nil) }},
		{"ekfac-preconditioner", HessianFreeSettings{}, func(m *curvature.Model) CurvatureFunc { return EKFACCurvature(m, nil) }},
		{"curvature-fraction", HessianFreeSettings{CurvatureFraction: 0.25}, nil},
		{"line-search", HessianFreeSettings{LineSearch: true}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, theta, set := digitsModel(t, 16, 1)
			if c.pre != nil {
				c.set.Preconditioner = c.pre(m)
			}
			h, err := NewHessianFree(m, &c.set)
			require.NoError(t, err)
			start, end := train(t, m, h, theta, set, 256, 30, func(rec Record) {
				assert.LessOrEqual(t, rec.Chosen, rec.CGIterations)
				assert.Less(t, rec.Predicted, 0.0, "CG iterates predict a decrease")
				want := rec.Lambda
				switch {
				case rec.Rho > 0.75:
					want *= 2.0 / 3
				case rec.Rho < 0.25:
					want *= 1.5
				}
				assert.InDelta(t, math.Max(want, 1e-6), rec.NextLambda, 1e-12*want)
				if rec.Accepted {
					assert.Less(t, rec.NewLoss, rec.Loss, "no accepted step raises the batch loss")
				} else {
					assert.Equal(t, rec.Loss, rec.NewLoss)
				}
			})
			t.Logf("loss %.4f → %.4f, λ = %.3g", start, end, h.Lambda())
			assert.Greater(t, start, 2.0)
			assert.Less(t, end, 0.7)
		})
	}
}

// notPD is a preconditioner that is not positive definite.
type notPD int

func (p notPD) Dim() int { return int(p) }
func (p notPD) SolveDampedTo(dst, v []float64, _ float64) error {
	floats.ScaleTo(dst, -1, v)
	return nil
}

func TestHessianFreeErrors(t *testing.T) {
	m, theta, set := digitsModel(t, 4, 13)
	for _, s := range []HessianFreeSettings{
		{Damping: -1}, {Damping: math.NaN()}, {Damping: math.Inf(1)}, {MinDamping: 10, MaxDamping: 1},
		{Damping: 1e5}, {MaxCG: -1}, {Tol: 1}, {Decay: 1.5}, {BacktrackFactor: 1}, {Backtracking: 7},
		{CurvatureFraction: 1.5}, {PreconditionerExponent: 2}, {ProgressTol: -1}, {ProgressTol: math.Inf(1)},
		{MaxDamping: math.Inf(1)},
	} {
		_, err := NewHessianFree(m, &s)
		var se *SettingError
		assert.ErrorAs(t, err, &se, "%+v", s)
	}
	_, err := NewHessianFree(m, &HessianFreeSettings{DiagonalPreconditioner: true, Preconditioner: func([]float64, curvature.Batch) (curvature.DampedSolver, error) { return nil, nil }})
	assert.Error(t, err)
	_, err = NewHessianFree(&curvature.Model{}, nil)
	assert.Error(t, err)

	b := firstRows(set, 20)
	nanX := firstRows(set, 20)
	nanX.X.Set(3, 3, math.NaN())
	badY := firstRows(set, 20)
	badY.Y.Set(0, 0, 12)
	for _, c := range []struct {
		name   string
		set    HessianFreeSettings
		batch  curvature.Batch
		target error
	}{
		{"nan-input", HessianFreeSettings{}, nanX, nil},
		{"label-out-of-range", HessianFreeSettings{}, badY, nil},
		{"preconditioner-fails", HessianFreeSettings{Preconditioner: func([]float64, curvature.Batch) (curvature.DampedSolver, error) {
			return nil, errors.New("no")
		}}, b, nil},
		{"preconditioner-size", HessianFreeSettings{Preconditioner: func([]float64, curvature.Batch) (curvature.DampedSolver, error) {
			return notPD(3), nil
		}}, b, nil},
		{"preconditioner-not-pd", HessianFreeSettings{Preconditioner: func(th []float64, _ curvature.Batch) (curvature.DampedSolver, error) {
			return notPD(len(th)), nil
		}}, b, curvature.ErrNotPositiveDefinite},
		{"preconditioner-solve-fails", HessianFreeSettings{Preconditioner: func(th []float64, _ curvature.Batch) (curvature.DampedSolver, error) {
			return failing(len(th)), nil
		}}, b, curvature.ErrNotPositiveDefinite},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := NewHessianFree(m, &c.set)
			require.NoError(t, err)
			requireStepFails(t, h, theta, c.batch, c.target)
		})
	}
	// Non-finite θ is bad data too.
	h, err := NewHessianFree(m, nil)
	require.NoError(t, err)
	bad := append([]float64(nil), theta...)
	bad[0] = math.Inf(1)
	_, err = h.Step(bad, b)
	assert.Error(t, err)
}

// benchHessianFree is one Hessian-free step on the K-FAC benchmark network
// (64-128-128-10, batch 256), repeated on the same batch: λ adapts and CG
// warm-starts as in a run, so the cost per step is a run's average.
func benchHessianFree(b *testing.B, s HessianFreeSettings) {
	m, theta, batch := kfacBenchSetup(b)
	h, err := NewHessianFree(m, &s)
	if err != nil {
		b.Fatal(err)
	}
	cg := 0
	for b.Loop() {
		rec, err := h.Step(theta, batch)
		if err != nil {
			b.Fatal(err)
		}
		cg += rec.CGIterations
	}
	b.ReportMetric(float64(cg)/float64(b.N), "cg/op")
}

func BenchmarkHessianFreeStep(b *testing.B) { benchHessianFree(b, HessianFreeSettings{}) }
func BenchmarkHessianFreeStepQuarterCurvature(b *testing.B) {
	benchHessianFree(b, HessianFreeSettings{CurvatureFraction: 0.25})
}
