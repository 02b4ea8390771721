package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

var losses = []Loss{MSE{}, SoftmaxCrossEntropy{}, SigmoidBCE{}}

// labelled are the losses whose outputs depend on the targets: for c
// outputs, class-weighted cross-entropy with weights of c classes, and the
// Gaussian negative log-likelihood when c is even.
func labelled(c int) []Loss {
	w := make([]float64, c)
	for k := range w {
		w[k] = 0.25 + 0.5*float64(k) // 0.25, 0.75, 1.25, …
	}
	out := []Loss{WeightedSoftmaxCrossEntropy{Weights: w}}
	if c%2 == 0 {
		out = append(out, GaussianNLL{})
	}
	return out
}

// signedProduct returns S₊S₊ᵀ − S₋S₋ᵀ for S whose last neg columns are S₋.
func signedProduct(s *mat.Dense, neg int) *mat.Dense {
	r, c := s.Dims()
	var pos, minus mat.Dense
	pos.Mul(s.Slice(0, r, 0, c-neg), s.Slice(0, r, 0, c-neg).T())
	if neg > 0 {
		minus.Mul(s.Slice(0, r, c-neg, c), s.Slice(0, r, c-neg, c).T())
		pos.Sub(&pos, &minus)
	}
	return &pos
}

// randomTargets draws valid targets for loss with c outputs.
func randomTargets(loss Loss, n, c int, rng *rand.Rand) *mat.Dense {
	y := mat.NewDense(n, loss.TargetDim(c), nil)
	for i := 0; i < n; i++ {
		switch loss.(type) {
		case SoftmaxCrossEntropy, WeightedSoftmaxCrossEntropy:
			y.Set(i, 0, float64(rng.IntN(c)))
		case SigmoidBCE:
			for k := 0; k < c; k++ {
				y.Set(i, k, rng.Float64())
			}
		default:
			for k := 0; k < loss.TargetDim(c); k++ {
				y.Set(i, k, rng.NormFloat64())
			}
		}
	}
	return y
}

func randomDense(r, c int, rng *rand.Rand) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// Gradient, Hessian, Hessian-vector product and factor of every loss
// against finite differences and the identity S₊S₊ᵀ − S₋S₋ᵀ = H_z, with
// neg = 0 for the convex losses and D for the Gaussian negative
// log-likelihood, whose H_z is indefinite.
func TestLossDerivatives(t *testing.T) {
	const c = 4
	rng := rand.New(rand.NewPCG(1, 1))
	for _, loss := range append(losses, labelled(c)...) {
		t.Run(loss.Name(), func(t *testing.T) {
			z := randomDense(1, c, rng)
			y := randomTargets(loss, 1, c, rng)
			value := func(zv []float64) float64 {
				out := make([]float64, 1)
				return loss.Value(out, mat.NewDense(1, c, zv), y)
			}
			grad := mat.NewDense(1, c, nil)
			loss.Grad(grad, z, y)
			want := fd.Gradient(nil, value, z.RawRowView(0), &fd.Settings{Formula: fd.Central})
			assert.InDeltaSlice(t, want, grad.RawRowView(0), 1e-7)

			h := mat.NewSymDense(c, nil)
			loss.Hessian(h, z.RawRowView(0), y.RawRowView(0))
			jac := mat.NewDense(c, c, nil)
			fd.Jacobian(jac, func(g, zv []float64) {
				gm := mat.NewDense(1, c, g)
				loss.Grad(gm, mat.NewDense(1, c, zv), y)
			}, z.RawRowView(0), &fd.JacobianSettings{Formula: fd.Central})
			assert.True(t, mat.EqualApprox(jac, h, 1e-7), "H_z against differences of ∇ℓ")

			v := randomDense(1, c, rng)
			hv := mat.NewDense(1, c, nil)
			loss.HessVec(hv, z, y, v)
			var want2 mat.VecDense
			want2.MulVec(h, v.RowView(0))
			assert.InDeltaSlice(t, want2.RawVector().Data, hv.RawRowView(0), 1e-14)

			s := mat.NewDense(c, c, nil)
			neg := loss.Factor(s, z.RawRowView(0), y.RawRowView(0))
			assert.True(t, mat.EqualApprox(signedProduct(s, neg), h, 1e-14), "S₊S₊ᵀ − S₋S₋ᵀ = H_z")
			wantNeg := 0
			if _, ok := loss.(GaussianNLL); ok {
				wantNeg = c / 2
			}
			assert.Equal(t, wantNeg, neg)
		})
	}
}

// The sampler draws from p(y|z): its sample mean matches E[y] (the mean of
// the Gaussian, the class probabilities, the Bernoulli means) within five
// standard errors.
func TestLossSampleMean(t *testing.T) {
	const c, draws = 3, 40000
	rng := rand.New(rand.NewPCG(2, 2))
	z := []float64{0.3, -1.2, 0.8}
	for _, loss := range losses {
		t.Run(loss.Name(), func(t *testing.T) {
			mean := make([]float64, c)
			y := make([]float64, loss.TargetDim(c))
			for d := 0; d < draws; d++ {
				loss.Sample(y, z, rng)
				if _, ok := loss.(SoftmaxCrossEntropy); ok {
					mean[int(y[0])] += 1.0 / draws
				} else {
					floats.AddScaled(mean, 1.0/draws, y)
				}
			}
			want := make([]float64, c)
			var sd []float64
			switch loss.(type) {
			case MSE:
				copy(want, z)
				sd = []float64{1, 1, 1}
			case SoftmaxCrossEntropy:
				softmaxTo(want, z)
			case SigmoidBCE:
				for k := range z {
					want[k] = sigmoid(z[k])
				}
			}
			if sd == nil {
				sd = make([]float64, c)
				for k, p := range want {
					sd[k] = math.Sqrt(p * (1 - p))
				}
			}
			for k := range want {
				assert.InDelta(t, want[k], mean[k], 5*sd[k]/math.Sqrt(draws), "output %d", k)
			}
		})
	}
}

func TestLossCheckTargets(t *testing.T) {
	cases := []struct {
		name string
		loss Loss
		y    *mat.Dense
		c    int
	}{
		{"label too large", SoftmaxCrossEntropy{}, mat.NewDense(2, 1, []float64{0, 3}), 3},
		{"negative label", SoftmaxCrossEntropy{}, mat.NewDense(1, 1, []float64{-1}), 3},
		{"fractional label", SoftmaxCrossEntropy{}, mat.NewDense(1, 1, []float64{0.5}), 3},
		// int(1e300) and int(2⁶³) wrap to −2⁶³, which an int comparison
		// lets through.
		{"huge label", SoftmaxCrossEntropy{}, mat.NewDense(1, 1, []float64{1e300}), 3},
		{"label 2⁶³", SoftmaxCrossEntropy{}, mat.NewDense(1, 1, []float64{math.Ldexp(1, 63)}), 3},
		{"NaN target", MSE{}, mat.NewDense(1, 2, []float64{math.NaN(), 0}), 2},
		{"Inf target", MSE{}, mat.NewDense(1, 2, []float64{0, math.Inf(1)}), 2},
		{"wrong width", MSE{}, mat.NewDense(1, 3, nil), 2},
		{"binary target above 1", SigmoidBCE{}, mat.NewDense(1, 2, []float64{0, 1.5}), 2},
		{"odd outputs for the Gaussian", GaussianNLL{}, mat.NewDense(1, 1, nil), 3},
		{"Gaussian target of the wrong width", GaussianNLL{}, mat.NewDense(1, 2, nil), 2},
		{"NaN Gaussian target", GaussianNLL{}, mat.NewDense(1, 1, []float64{math.NaN()}), 2},
		{"too few class weights", WeightedSoftmaxCrossEntropy{Weights: []float64{1, 2}}, mat.NewDense(1, 1, nil), 3},
		{"negative class weight", WeightedSoftmaxCrossEntropy{Weights: []float64{1, -2, 1}}, mat.NewDense(1, 1, nil), 3},
		{"NaN class weight", WeightedSoftmaxCrossEntropy{Weights: []float64{1, math.NaN(), 1}}, mat.NewDense(1, 1, nil), 3},
		{"infinite class weight", WeightedSoftmaxCrossEntropy{Weights: []float64{1, math.Inf(1), 1}}, mat.NewDense(1, 1, nil), 3},
		{"weighted label out of range", WeightedSoftmaxCrossEntropy{Weights: []float64{1, 2, 1}}, mat.NewDense(1, 1, []float64{3}), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Error(t, c.loss.CheckTargets(c.y, c.c))
		})
	}
	assert.NoError(t, SoftmaxCrossEntropy{}.CheckTargets(mat.NewDense(2, 1, []float64{0, 2}), 3))
	// A label that was never checked panics with a message, not an index
	// error, where the loss reads it.
	z, g := mat.NewDense(1, 3, nil), mat.NewDense(1, 3, nil)
	bad := mat.NewDense(1, 1, []float64{1e300})
	assert.PanicsWithValue(t, "nn: label 1e+300 in row 0 is not a class index in [0, 3); check targets with CheckTargets",
		func() { SoftmaxCrossEntropy{}.Grad(g, z, bad) })
	assert.Panics(t, func() { SoftmaxCrossEntropy{}.Value(make([]float64, 1), z, bad) })
	assert.NoError(t, WeightedSoftmaxCrossEntropy{Weights: []float64{0, 2, 1}}.CheckTargets(mat.NewDense(1, 1, []float64{2}), 3))
	assert.NoError(t, GaussianNLL{}.CheckTargets(mat.NewDense(2, 2, []float64{1, -3, 0, 2}), 4))
	_, err := LossByName("hinge")
	assert.Error(t, err)
	for name, want := range map[string]Loss{"gaussian_nll": GaussianNLL{}, "weighted_softmax_ce": WeightedSoftmaxCrossEntropy{}} {
		l, err := LossByName(name)
		assert.NoError(t, err)
		assert.Equal(t, want, l)
		assert.Equal(t, name, l.Name())
	}
}

// Rows longer than the stack buffers the losses evaluate through (and not
// a multiple of them): value, gradient and Hessian-vector product against
// the formulas on the math package; SigmoidBCE's HessVec also in place
// (dst = v), which its stack buffer allows.
func TestLossLongRows(t *testing.T) {
	const n, c = 3, 2*chunk + 37
	rng := rand.New(rand.NewPCG(5, 1))
	z, v := randomDense(n, c, rng), randomDense(n, c, rng)
	z.Scale(8, z) // into the tails of the sigmoid and softplus
	sigmoidMath := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, loss := range []Loss{SigmoidBCE{}, SoftmaxCrossEntropy{}} {
		t.Run(loss.Name(), func(t *testing.T) {
			y := randomTargets(loss, n, c, rng)
			wantValue, wantGrad, wantHv := make([]float64, n), mat.NewDense(n, c, nil), mat.NewDense(n, c, nil)
			for i := 0; i < n; i++ {
				zi, vi := z.RawRowView(i), v.RawRowView(i)
				switch loss.(type) {
				case SigmoidBCE:
					for k, zk := range zi {
						p := sigmoidMath(zk)
						wantValue[i] += max(zk, 0) + math.Log1p(math.Exp(-math.Abs(zk))) - y.At(i, k)*zk
						wantGrad.Set(i, k, p-y.At(i, k))
						wantHv.Set(i, k, p*(1-p)*vi[k])
					}
				case SoftmaxCrossEntropy:
					m := floats.Max(zi)
					s := 0.0
					for _, zk := range zi {
						s += math.Exp(zk - m)
					}
					label := int(y.At(i, 0))
					wantValue[i] = m + math.Log(s) - zi[label]
					pv := 0.0
					for k, zk := range zi {
						pv += math.Exp(zk-m) / s * vi[k]
					}
					for k, zk := range zi {
						p := math.Exp(zk-m) / s
						g := p
						if k == label {
							g--
						}
						wantGrad.Set(i, k, g)
						wantHv.Set(i, k, p*(vi[k]-pv))
					}
				}
			}
			value := make([]float64, n)
			total := loss.Value(value, z, y)
			assert.InDeltaSlice(t, wantValue, value, 1e-12*floats.Norm(wantValue, math.Inf(1)))
			assert.InDelta(t, floats.Sum(wantValue), total, 1e-12*math.Abs(total))
			grad, hv := mat.NewDense(n, c, nil), mat.NewDense(n, c, nil)
			loss.Grad(grad, z, y)
			assert.True(t, mat.EqualApprox(wantGrad, grad, 1e-15), "gradient")
			loss.HessVec(hv, z, y, v)
			assert.True(t, mat.EqualApprox(wantHv, hv, 1e-14), "Hessian-vector product")
			if _, ok := loss.(SigmoidBCE); ok {
				inPlace := mat.DenseCopyOf(v)
				loss.HessVec(inPlace, z, y, inPlace)
				assert.True(t, mat.Equal(hv, inPlace), "HessVec with dst = v")
			}
		})
	}
}

// The losses' batch passes and the activation layers' passes allocate
// nothing.
func TestNoAllocation(t *testing.T) {
	const n, c = 16, chunk + 5
	rng := rand.New(rand.NewPCG(6, 1))
	z, v, dst := randomDense(n, c, rng), randomDense(n, c, rng), mat.NewDense(n, c, nil)
	value := make([]float64, n)
	for _, loss := range append(append([]Loss(nil), losses...), labelled(c)...) {
		y := randomTargets(loss, n, c, rng)
		assert.Zero(t, testing.AllocsPerRun(5, func() { loss.Value(value, z, y) }), "%s Value", loss.Name())
		assert.Zero(t, testing.AllocsPerRun(5, func() { loss.Grad(dst, z, y) }), "%s Grad", loss.Name())
		assert.Zero(t, testing.AllocsPerRun(5, func() { loss.HessVec(dst, z, y, v) }), "%s HessVec", loss.Name())
		assert.Zero(t, testing.AllocsPerRun(5, func() { assert.NoError(t, loss.CheckTargets(y, c)) }), "%s CheckTargets", loss.Name())
		sample := make([]float64, loss.TargetDim(c))
		assert.Zero(t, testing.AllocsPerRun(5, func() { loss.Sample(sample, z.RawRowView(0), rng) }), "%s Sample", loss.Name())
	}
	for _, name := range activationNames {
		act, err := ActivationByName(name)
		assert.NoError(t, err)
		e := Elementwise{Size: c, Act: act}
		y := mat.NewDense(n, c, nil)
		e.Forward(y, z, nil)
		assert.Zero(t, testing.AllocsPerRun(5, func() { e.Forward(y, z, nil) }), "%s Forward", name)
		assert.Zero(t, testing.AllocsPerRun(5, func() { e.JVP(dst, z, y, nil, v, nil) }), "%s JVP", name)
		assert.Zero(t, testing.AllocsPerRun(5, func() { e.VJP(dst, nil, z, y, nil, v) }), "%s VJP", name)
	}
}
