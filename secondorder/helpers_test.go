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

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/testfunc"
	"github.com/curvkit/curvkit/internal/randmat"
)

// modelValue returns gᵀp + ½pᵀMp with the dense matrix a.
func modelValue(a mat.Symmetric, g, p []float64) float64 {
	n := len(p)
	mp := mat.NewVecDense(n, nil)
	mp.MulVec(a, mat.NewVecDense(n, p))
	return floats.Dot(g, p) + 0.5*floats.Dot(p, mp.RawVector().Data)
}

// bruteForceModelMin minimises the model on the ball ‖p‖ ≤ Δ by projected
// gradient descent from many random starts (inside the ball and on its
// boundary), independent of every solver under test. Good for n ≤ 3.
func bruteForceModelMin(a mat.Symmetric, g []float64, delta float64, rnd *rand.Rand) (best float64, bestP []float64) {
	n := len(g)
	var eig mat.EigenSym
	eig.Factorize(a, false)
	vals := eig.Values(nil)
	L := math.Max(math.Abs(vals[0]), math.Abs(vals[n-1])) + 1e-12
	step := 1 / L
	best = 0 // p = 0
	bestP = make([]float64, n)
	p := make([]float64, n)
	grad := mat.NewVecDense(n, nil)
	for start := 0; start < 60; start++ {
		for i := range p {
			p[i] = rnd.NormFloat64()
		}
		r := delta
		if start%2 == 0 {
			r *= rnd.Float64()
		}
		floats.Scale(r/floats.Norm(p, 2), p)
		for it := 0; it < 3000; it++ {
			grad.MulVec(a, mat.NewVecDense(n, p))
			floats.AddScaled(p, -step, grad.RawVector().Data)
			floats.AddScaled(p, -step, g)
			if nrm := floats.Norm(p, 2); nrm > delta {
				floats.Scale(delta/nrm, p)
			}
		}
		if v := modelValue(a, g, p); v < best {
			best = v
			copy(bestP, p)
		}
	}
	return best, bestP
}

// randSym returns a random symmetric n×n matrix with entries ~ N(0, s²).
func randSym(n int, s float64, rnd *rand.Rand) *mat.SymDense {
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, s*rnd.NormFloat64())
		}
	}
	return a
}

// newtonStep solves (M + λI)d = −g as a damped Newton direction that
// refuses an indefinite M + λI.
func newtonStep(d []float64, m curvature.Operator, g []float64, lambda float64) (StepInfo, error) {
	dn := DampedNewton{Lambda: lambda, Indefinite: FailIndefinite}
	return dn.Direction(d, m, g)
}

// hidden wraps a dense operator so that solvers cannot see it is dense and
// must work from products.
type hidden struct{ op curvature.Operator }

func (h hidden) Dim() int                  { return h.op.Dim() }
func (h hidden) MulVecTo(dst, v []float64) { h.op.MulVecTo(dst, v) }

// mustDiagonal returns diag(d) as an approx.Diagonal, a Jacobi
// preconditioner.
func mustDiagonal(t testing.TB, d ...float64) *approx.Diagonal {
	t.Helper()
	a, err := approx.NewDiagonal(d, 0)
	require.NoError(t, err)
	return a
}

// diagonalScaling returns the problem a preconditioned solver solves in
// disguise: with P̃ = diag(dt), M̂ = P̃^{-1/2}MP̃^{-1/2} and ĝ = P̃^{-1/2}g.
func diagonalScaling(a mat.Symmetric, g, dt []float64) (*mat.SymDense, []float64) {
	n := len(g)
	ah := mat.NewSymDense(n, nil)
	gh := make([]float64, n)
	for i := 0; i < n; i++ {
		gh[i] = g[i] / math.Sqrt(dt[i])
		for j := i; j < n; j++ {
			ah.SetSym(i, j, a.At(i, j)/math.Sqrt(dt[i]*dt[j]))
		}
	}
	return ah, gh
}

// checkScaledBack checks p = P̃^{-1/2}y component by component, to relative
// accuracy tol, and returns ‖p‖_P̃.
func checkScaledBack(t *testing.T, p, y, dt []float64, tol float64, name string) float64 {
	t.Helper()
	pNorm := 0.0
	for i := range p {
		assert.InDelta(t, y[i]/math.Sqrt(dt[i]), p[i], tol*(1+math.Abs(p[i])), "%s component %d", name, i)
		pNorm += dt[i] * p[i] * p[i]
	}
	return math.Sqrt(pNorm)
}

// randSPD returns a random symmetric positive definite n×n matrix with
// eigenvalues 10^u, u uniform on [lo, hi).
func randSPD(n int, lo, hi float64, rnd *rand.Rand) *mat.SymDense {
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = math.Pow(10, lo+(hi-lo)*rnd.Float64())
	}
	a, _ := randmat.SymFromEig(rnd, vals)
	return a
}

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

// digitsModel returns a small classifier on the embedded digits, its
// initial parameters and the data.
func digitsModel(t testing.TB, hidden int, seed uint64) (*curvature.Model, []float64, *data.Set) {
	t.Helper()
	set, err := data.Digits()
	require.NoError(t, err)
	net, err := nn.NewMLP([]int{64, hidden, 10}, []string{"tanh", "identity"})
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(seed, 1)))
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, set
}

func fullLoss(m *curvature.Model, theta []float64, set *data.Set) float64 {
	t := nn.NewTape(m.Net, m.Loss)
	t.Forward(theta, set.X)
	return t.LossValue(set.Y)
}

// eachBatch calls step on steps mini-batches of size from set, drawn in
// the order rand.NewPCG(3, 3) gives, starting a new epoch when one runs out:
// the loop of the training tests.
func eachBatch(t *testing.T, set *data.Set, size, steps int, step func(curvature.Batch)) {
	t.Helper()
	batches, err := data.NewBatches(set, size, rand.New(rand.NewPCG(3, 3)))
	require.NoError(t, err)
	for i := 0; i < steps; i++ {
		if !batches.Next() {
			require.True(t, batches.Next())
		}
		step(curvature.Batch{X: batches.X(), Y: batches.Y()})
	}
}

// requireStepFails checks that opt's step from θ on b fails, with an error
// wrapping target unless target is nil, and leaves θ as it was.
func requireStepFails(t *testing.T, opt Optimizer, theta []float64, b curvature.Batch, target error) {
	t.Helper()
	before := append([]float64(nil), theta...)
	_, err := opt.Step(theta, b)
	require.Error(t, err)
	if target != nil {
		assert.ErrorIs(t, err, target)
	}
	assert.Equal(t, before, theta, "θ unchanged after an error")
}

// benchSteps times opt's steps from θ on the batch b.
func benchSteps(b *testing.B, opt Optimizer, theta []float64, batch curvature.Batch) {
	for b.Loop() {
		if _, err := opt.Step(theta, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// train takes steps of opt from θ, one a batch of size samples of set
// (eachBatch), checks each step's record with check, and returns the loss
// on all of set before and after.
func train(t *testing.T, m *curvature.Model, opt Optimizer, theta []float64, set *data.Set, size, steps int, check func(Record)) (start, end float64) {
	t.Helper()
	start = fullLoss(m, theta, set)
	eachBatch(t, set, size, steps, func(b curvature.Batch) {
		rec, err := opt.Step(theta, b)
		require.NoError(t, err)
		check(rec)
	})
	return start, fullLoss(m, theta, set)
}
