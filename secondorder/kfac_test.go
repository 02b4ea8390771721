package secondorder

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// K-FAC trains a digits classifier: 150 mini-batch steps take the
// full-data training loss from above 2 to below 0.05, with every setting
// at its default (Monte-Carlo factors as Martens & Grosse, statistics and
// quadratic model on a quarter of the batch).
func TestKFACTrainsDigits(t *testing.T) {
	m, theta, set := digitsModel(t, 16, 1)
	opt, err := NewKFAC(m, &KFACSettings{Seed: 2})
	require.NoError(t, err)
	start, end := train(t, m, opt, theta, set, 128, 150, func(rec Record) {
		assert.LessOrEqual(t, rec.Predicted, 0.0, "the model step never predicts an increase")
		assert.GreaterOrEqual(t, rec.NextLambda, 1e-3)
	})
	t.Logf("loss %.4f → %.4f, λ = %.3g", start, end, opt.Lambda())
	assert.Greater(t, start, 2.0)
	assert.Less(t, end, 0.05)
}

// The step coefficients minimise the damped quadratic model
// M(α, μ) = ½δᵀ(F + γI)δ + gᵀδ, δ = αΔ + μδ_prev, with F the dense Fisher
// of the batch: the model's gradient in (α, μ) vanishes and its value is the
// recorded prediction.
func TestKFACQuadraticModel(t *testing.T) {
	m, theta, set := digitsModel(t, 6, 4)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 40, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 40, 0, 1))}
	checkQuadraticModel(t, m, theta, b)
}

// The same with the Gaussian negative log-likelihood on a weighted batch:
// the model's F is the weighted Fisher from the output Fisher diag(e^{−s}, ½),
// not the GGN, which is indefinite.
func TestKFACQuadraticModelFisher(t *testing.T) {
	m, theta, b, _ := weightedProblem(t, nn.GaussianNLL{}, 4)
	b.W[1] = 0.4
	checkQuadraticModel(t, m, theta, b)
}

func checkQuadraticModel(t *testing.T, m *curvature.Model, theta []float64, b curvature.Batch) {
	t.Helper()
	opt, err := NewKFAC(m, &KFACSettings{FixedDamping: true, Damping: 0.05, ModelTrust: -1, ModelFraction: 1})
	require.NoError(t, err)
	_, err = opt.Step(theta, b)
	require.NoError(t, err)
	prev := append([]float64(nil), opt.prev...)
	before := append([]float64(nil), theta...)
	rec, err := opt.Step(theta, b)
	require.NoError(t, err)

	// Recompute Δ, g and F independently of the optimizer's products.
	fisher, err := m.Dense(curvature.Fisher, before, b, nil)
	require.NoError(t, err)
	obj, err := m.Objective(b)
	require.NoError(t, err)
	g := make([]float64, len(theta))
	obj.Grad(g, before)
	delta := make([]float64, len(theta))
	require.NoError(t, opt.Curvature().SolveDampedTo(delta, g, 0.05))
	floats.Scale(-1, delta)
	quad := func(u, v []float64) float64 {
		var fv mat.VecDense
		fv.MulVec(fisher, mat.NewVecDense(len(v), v))
		return mat.Dot(mat.NewVecDense(len(u), u), &fv) + 0.05*floats.Dot(u, v)
	}
	a, mu := rec.Alpha, rec.Mu
	dMdA := a*quad(delta, delta) + mu*quad(delta, prev) + floats.Dot(g, delta)
	dMdMu := a*quad(delta, prev) + mu*quad(prev, prev) + floats.Dot(g, prev)
	assert.InDelta(t, 0, dMdA, 1e-10*math.Abs(floats.Dot(g, delta)))
	assert.InDelta(t, 0, dMdMu, 1e-10*math.Abs(floats.Dot(g, delta)))
	step := make([]float64, len(theta))
	floats.SubTo(step, theta, before)
	want := 0.5*quad(step, step) + floats.Dot(g, step)
	assert.InDelta(t, want, rec.Predicted, 1e-10*math.Abs(want))
	assert.NotZero(t, rec.Mu, "the second step uses momentum")
}

// The norm constraint bounds δᵀFδ.
func TestKFACNormConstraint(t *testing.T) {
	m, theta, set := digitsModel(t, 6, 5)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 50, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 50, 0, 1))}
	opt, err := NewKFAC(m, &KFACSettings{NormConstraint: 1e-4, ModelTrust: -1, ModelFraction: 1})
	require.NoError(t, err)
	before := append([]float64(nil), theta...)
	rec, err := opt.Step(theta, b)
	require.NoError(t, err)
	require.True(t, rec.Clipped)
	fisher, err := m.Dense(curvature.Fisher, before, b, nil)
	require.NoError(t, err)
	step := make([]float64, len(theta))
	floats.SubTo(step, theta, before)
	assert.InDelta(t, 1e-4, mat.Inner(mat.NewVecDense(len(step), step), fisher, mat.NewVecDense(len(step), step)), 1e-10)
}

func TestKFACErrors(t *testing.T) {
	m, theta, set := digitsModel(t, 6, 6)
	for _, s := range []KFACSettings{
		{Damping: -1}, {Damping: math.NaN()}, {Decay: 1}, {StatsFraction: 1.5},
		{MinDamping: 10, MaxDamping: 1}, {WeightDecay: math.Inf(1)},
		// Non-finite bounds: +Inf as a floor made λ +Inf and most steps fail.
		{MinDamping: math.Inf(1)}, {MaxDamping: math.Inf(1)}, {MinDamping: math.Inf(1), MaxDamping: math.Inf(1)}, {MinDamping: math.NaN()},
		// A starting λ outside its bounds.
		{Damping: 1e5}, {Damping: 1, MinDamping: 2},
	} {
		_, err := NewKFAC(m, &s)
		var se *SettingError
		assert.ErrorAs(t, err, &se, "%+v", s)
	}
	opt, err := NewKFAC(m, nil)
	require.NoError(t, err)
	x := mat.DenseCopyOf(set.X.Slice(0, 10, 0, 64))
	x.Set(3, 3, math.NaN())
	before := append([]float64(nil), theta...)
	_, err = opt.Step(theta, curvature.Batch{X: x, Y: mat.DenseCopyOf(set.Y.Slice(0, 10, 0, 1))})
	assert.Error(t, err)
	assert.Equal(t, before, theta, "θ unchanged after bad data")
}

// nanLoss is softmax cross-entropy whose value or gradient turns NaN after
// a number of calls: an objective that fails after a step.
type nanLoss struct {
	nn.SoftmaxCrossEntropy
	grad  bool // NaN gradients rather than NaN values
	calls *int
	after int
}

func (l nanLoss) Value(dst []float64, z, y *mat.Dense) float64 {
	v := l.SoftmaxCrossEntropy.Value(dst, z, y)
	if *l.calls++; !l.grad && *l.calls > l.after {
		return math.NaN()
	}
	return v
}

func (l nanLoss) Grad(dst, z, y *mat.Dense) {
	l.SoftmaxCrossEntropy.Grad(dst, z, y)
	if l.grad && *l.calls > l.after {
		dst.Set(0, 0, math.NaN())
	}
}

// flatLoss is softmax cross-entropy whose output Hessian products are
// scaled by c: a loss whose quadratic model underestimates the curvature.
type flatLoss struct {
	nn.SoftmaxCrossEntropy
	c float64
}

func (l flatLoss) HessVec(dst, z, y, v *mat.Dense) {
	l.SoftmaxCrossEntropy.HessVec(dst, z, y, v)
	dst.Scale(l.c, dst)
}

// A step that cannot be computed (the damped factors are not positive
// definite at a vanishing damping) is refused with θ unchanged; a NaN
// objective or gradient at the start of a step is reported with θ as the
// caller passed it (never an earlier iterate), and the next step from a
// good θ goes on from there.
func TestKFACLeavesCallersTheta(t *testing.T) {
	m, theta0, set := digitsModel(t, 6, 7)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 30, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 30, 0, 1))}

	theta := append([]float64(nil), theta0...)
	absurd, err := NewKFAC(m, &KFACSettings{Damping: 1e-300, MinDamping: 1e-300, FixedDamping: true})
	require.NoError(t, err)
	_, err = absurd.Step(theta, b)
	require.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
	assert.Equal(t, theta0, theta)

	for _, grad := range []bool{false, true} {
		calls := 0
		bad := &curvature.Model{Net: m.Net, Loss: nanLoss{grad: grad, calls: &calls, after: 1}}
		theta := append([]float64(nil), theta0...)
		opt, err := NewKFAC(bad, &KFACSettings{FixedDamping: true})
		require.NoError(t, err)
		_, err = opt.Step(theta, b) // one loss value: still finite
		require.NoError(t, err)
		require.NotEqual(t, theta0, theta)
		after := append([]float64(nil), theta...)
		_, err = opt.Step(theta, b)
		require.ErrorIs(t, err, curvature.ErrNonFinite, "NaN gradient %v", grad)
		assert.Equal(t, after, theta, "NaN gradient %v: θ as passed", grad)
		assert.Contains(t, err.Error(), "left unchanged")
	}

	// A θ the caller replaced with one of infinite loss, after good steps:
	// refused, θ left as given; a good θ then steps normally.
	opt, err := NewKFAC(m, nil)
	require.NoError(t, err)
	theta = append([]float64(nil), theta0...)
	for range 3 {
		_, err = opt.Step(theta, b)
		require.NoError(t, err)
	}
	huge := append([]float64(nil), theta...)
	for i := range huge {
		huge[i] = 1e308 // finite, but the products overflow
	}
	given := append([]float64(nil), huge...)
	_, err = opt.Step(huge, b)
	require.ErrorIs(t, err, curvature.ErrNonFinite)
	assert.Equal(t, given, huge)
	rec, err := opt.Step(theta, b)
	require.NoError(t, err)
	assert.True(t, rec.Accepted)
}

// The quadratic model never predicts a decrease beyond ModelTrust times
// the loss (the losses are non-negative), on a run where the cap binds.
func TestKFACModelTrust(t *testing.T) {
	m, theta, set := digitsModel(t, 16, 8)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 64, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 64, 0, 1))}
	opt, err := NewKFAC(m, &KFACSettings{ModelTrust: 0.1})
	require.NoError(t, err)
	clipped := 0
	for range 20 {
		rec, err := opt.Step(theta, b)
		require.NoError(t, err)
		assert.LessOrEqual(t, -rec.Predicted, 0.1*rec.Loss*(1+1e-12))
		if rec.Clipped {
			clipped++
		}
	}
	assert.Positive(t, clipped, "the cap binds at 10% of the loss")
	_, err = NewKFAC(m, &KFACSettings{ModelTrust: math.Inf(1)})
	assert.Error(t, err)
}

// A step that raises the loss on its own batch is undone at a
// damping-update step, and λ rises.
func TestKFACRejectsUphillStep(t *testing.T) {
	m, theta, set := digitsModel(t, 6, 9)
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 64, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 64, 0, 1))}
	// A model with a millionth of the curvature takes a far too long step
	// (no cap) and goes uphill.
	opt, err := NewKFAC(&curvature.Model{Net: m.Net, Loss: flatLoss{c: 1e-6}}, &KFACSettings{ModelTrust: -1, DampingInterval: 1})
	require.NoError(t, err)
	before := append([]float64(nil), theta...)
	rec, err := opt.Step(theta, b)
	require.NoError(t, err)
	require.False(t, rec.Accepted, "loss %v → %v", rec.Loss, rec.NewLoss)
	assert.Greater(t, rec.NewLoss, rec.Loss)
	assert.Equal(t, before, theta)
	assert.Greater(t, rec.NextLambda, rec.Lambda)
}

// With the quadratic model on part of the batch, ρ compares the model and
// the loss on those rows: ModelLoss and NewLoss are the rows' loss before
// and after the step, and ModelPredicted is ½δᵀ(F_R + γI)δ + g_Rᵀδ with
// the rows' own dense Fisher and gradient, computed here independently
// (weight decay included).
func TestKFACRhoOnModelRows(t *testing.T) {
	m, theta, set := digitsModel(t, 6, 10)
	const n, rows, eta = 40, 10, 1e-3
	b := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, n, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, n, 0, 1))}
	bR := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, rows, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, rows, 0, 1))}
	// Statistics on the whole batch, then on the model's rows: the
	// statistics' backward pass on the shared prefix must leave the output
	// gradients ρ reads alone.
	for _, stats := range []float64{1, float64(rows) / n} {
		theta := append([]float64(nil), theta...)
		opt, err := NewKFAC(m, &KFACSettings{ModelFraction: float64(rows) / n, StatsFraction: stats, Factors: approx.MCFactors, DampingInterval: 1, WeightDecay: eta})
		require.NoError(t, err)
		checkRhoOnRows(t, m, opt, theta, b, bR, eta)
	}
}

func checkRhoOnRows(t *testing.T, m *curvature.Model, opt *KFAC, theta []float64, b, bR curvature.Batch, eta float64) {
	t.Helper()
	obj, err := m.Objective(bR)
	require.NoError(t, err)
	h := func(th []float64) float64 { return obj.Func(th) + 0.5*eta*floats.Dot(th, th) }
	for step := 1; step <= 3; step++ {
		before := append([]float64(nil), theta...)
		rec, err := opt.Step(theta, b)
		require.NoError(t, err)
		require.True(t, rec.Accepted, "step %d", step)
		delta := make([]float64, len(theta))
		floats.SubTo(delta, theta, before)

		fisher, err := m.Dense(curvature.Fisher, before, bR, nil)
		require.NoError(t, err)
		g := make([]float64, len(theta))
		obj.Grad(g, before)
		floats.AddScaled(g, eta, before)
		dv := mat.NewVecDense(len(delta), delta)
		gamma := rec.Lambda + eta
		model := 0.5*(mat.Inner(dv, fisher, dv)+gamma*floats.Dot(delta, delta)) + floats.Dot(g, delta)

		assert.InDelta(t, h(before), rec.ModelLoss, 1e-13, "step %d", step)
		assert.InDelta(t, h(theta), rec.NewLoss, 1e-13, "step %d", step)
		assert.InDelta(t, model, rec.ModelPredicted, 1e-9*math.Abs(model), "step %d", step)
		assert.InDelta(t, (rec.NewLoss-rec.ModelLoss)/model, rec.Rho, 1e-8, "step %d", step)
		assert.NotEqual(t, rec.Loss, rec.ModelLoss, "the rows' loss is not the batch's")
	}
}

// The K-FAC optimizer checks the memory of its factors before it allocates
// them: a 100000→10 layer's A factor alone would be 10¹⁰ floats.
func TestKFACBudget(t *testing.T) {
	net, err := nn.NewMLP([]int{100000, 10}, []string{"identity"})
	require.NoError(t, err)
	_, err = NewKFAC(&curvature.Model{Net: net, Loss: nn.MSE{}}, nil)
	var be *curvature.BudgetError
	require.ErrorAs(t, err, &be)
}

// K-FAC forms a convolution's factors with the weight sharing its settings
// name: after the first step (whose running average is the statistics
// alone), the factors of every Kronecker layer are those approx.ModelKFAC
// gives on the same rows, and they differ between Expand and Reduce on the
// convolution, which shares its weights over 36 locations. A value that is
// neither is refused as a setting.
func TestKFACWeightSharing(t *testing.T) {
	set, err := data.Digits()
	require.NoError(t, err)
	net, err := nn.New(
		nn.Conv2d{In: 1, Out: 3, H: 8, W: 8, Kernel: [2]int{3, 3}}, // the digits as 1×8×8 images
		nn.Elementwise{Size: 3 * 6 * 6, Act: nn.Tanh{}},
		nn.AvgPool2d{C: 3, H: 6, W: 6, Kernel: [2]int{2, 2}},
		nn.Flatten{C: 3, H: 3, W: 3},
		nn.Dense{In: 27, Out: 10},
	)
	require.NoError(t, err)
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta0 := make([]float64, net.NumParams())
	net.Init(theta0, rand.New(rand.NewPCG(1, 1)))
	batch := curvature.Batch{X: mat.DenseCopyOf(set.X.Slice(0, 32, 0, 64)), Y: mat.DenseCopyOf(set.Y.Slice(0, 32, 0, 1))}

	convG := map[approx.WeightSharing]*mat.SymDense{}
	for _, ws := range []approx.WeightSharing{approx.Expand, approx.Reduce} {
		opt, err := NewKFAC(m, &KFACSettings{Factors: approx.ExactFactors, WeightSharing: ws, StatsFraction: 1})
		require.NoError(t, err)
		assert.Equal(t, ws, opt.Curvature().Settings().WeightSharing)
		theta := append([]float64(nil), theta0...)
		_, err = opt.Step(theta, batch)
		require.NoError(t, err)
		want, err := approx.ModelKFAC(m, theta0, batch, &approx.KFACSettings{Factors: approx.ExactFactors, WeightSharing: ws})
		require.NoError(t, err)
		// The blocks are the layers with parameters: the convolution, then
		// the dense layer.
		for b := range 2 {
			g, a := opt.Curvature().Kron(b).Factors()
			wg, wa := want.Kron(b).Factors()
			// The same sums, up to the running average's arithmetic.
			assert.True(t, mat.EqualApprox(g, wg, 1e-12), "%v: G of block %d", ws, b)
			assert.True(t, mat.EqualApprox(a, wa, 1e-12), "%v: A of block %d", ws, b)
		}
		convG[ws], _ = opt.Curvature().Kron(0).Factors()
	}
	assert.False(t, mat.EqualApprox(convG[approx.Expand], convG[approx.Reduce], 1e-3), "Expand and Reduce give the convolution the same G")

	_, err = NewKFAC(m, &KFACSettings{WeightSharing: 7})
	var se *SettingError
	assert.ErrorAs(t, err, &se)
}
