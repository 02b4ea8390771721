package curvature

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// labelled are the losses whose output curvature depends on the targets,
// for networks of 4 outputs.
var labelled = []nn.Loss{nn.GaussianNLL{}, nn.WeightedSoftmaxCrossEntropy{Weights: []float64{0.5, 2, 0.25, 1.5}}}

// everyLoss returns the losses of package nn with the output count each
// is tested on.
func everyLoss() []struct {
	loss nn.Loss
	out  int
} {
	var out []struct {
		loss nn.Loss
		out  int
	}
	for _, l := range allLosses {
		out = append(out, struct {
			loss nn.Loss
			out  int
		}{l, 3})
	}
	for _, l := range labelled {
		out = append(out, struct {
			loss nn.Loss
			out  int
		}{l, 4})
	}
	return out
}

// repeated returns the batch whose sample i appears w[i] times, in order,
// without weights.
func repeated(b Batch, w []int) Batch {
	_, cx := b.X.Dims()
	_, cy := b.Y.Dims()
	var xs, ys []float64
	for i, k := range w {
		for range k {
			xs = append(xs, b.X.RawRowView(i)...)
			ys = append(ys, b.Y.RawRowView(i)...)
		}
	}
	n := len(xs) / cx
	return Batch{X: mat.NewDense(n, cx, xs), Y: mat.NewDense(n, cy, ys)}
}

// integerWeights are the weights of the repetition tests: a sample
// dropped (0), others counted up to three times.
var integerWeights = []int{2, 0, 1, 3, 1, 2, 0}

func floatWeights(w []int) []float64 {
	out := make([]float64, len(w))
	for i, k := range w {
		out[i] = float64(k)
	}
	return out
}

// With integer sample weights every matrix, diagonal and operator, the
// gradient statistics, the loss and its gradient equal those of the batch
// with each sample repeated that many times (a weight of 0 dropping it):
// the weighted mean is the mean of the repeated batch, exactly.
func TestWeightsRepeatRows(t *testing.T) {
	for _, c := range everyLoss() {
		f := newFixture(t, []int{3, 4, c.out}, []string{"tanh", "identity"}, c.loss, len(integerWeights), 51)
		wb := f.b
		wb.W = floatWeights(integerWeights)
		rb := repeated(f.b, integerWeights)
		for _, k := range []Kind{Hessian, GGN, Fisher, EmpiricalFisher, GradientCovariance} {
			t.Run(c.loss.Name()+"/"+k.String(), func(t *testing.T) {
				got, err := f.m.Dense(k, f.theta, wb, nil)
				require.NoError(t, err)
				want, err := f.m.Dense(k, f.theta, rb, nil)
				require.NoError(t, err)
				assert.Less(t, relErr(got, want), 1e-13, "Dense")

				diag, err := f.m.Diagonal(k, f.theta, wb, nil)
				require.NoError(t, err)
				wantDiag := make([]float64, len(diag))
				for j := range wantDiag {
					wantDiag[j] = want.At(j, j)
				}
				assert.Less(t, floats.Distance(diag, wantDiag, 2), 1e-13*floats.Norm(wantDiag, 2), "Diagonal")

				op, err := f.m.Operator(k, f.theta, wb, nil)
				require.NoError(t, err)
				fromOp, err := Materialize(op, 0)
				require.NoError(t, err)
				assert.Less(t, relErr(fromOp, want), 1e-13, "Operator")

				sum, err := f.m.DenseSum(k, f.theta, wb, nil)
				require.NoError(t, err)
				assert.Equal(t, float64(rb.Len()), sum.W)
				assert.Equal(t, wb.Len(), sum.N)
			})
		}
		t.Run(c.loss.Name()+"/statistics", func(t *testing.T) {
			got, err := f.m.GradientStats(f.theta, wb, nil)
			require.NoError(t, err)
			want, err := f.m.GradientStats(f.theta, rb, nil)
			require.NoError(t, err)
			for _, v := range [][2][]float64{{got.Grad, want.Grad}, {got.SumSquared, want.SumSquared}, {got.Variance, want.Variance}} {
				assert.Less(t, floats.Distance(v[0], v[1], 2), 1e-13*floats.Norm(v[1], 2))
			}
			r := 0
			for i, k := range integerWeights {
				for range k {
					assert.Equal(t, want.NormsSq[r], got.NormsSq[i], "‖g_%d‖², unweighted", i)
					r++
				}
			}

			ow, err := f.m.Objective(wb)
			require.NoError(t, err)
			or, err := f.m.Objective(rb)
			require.NoError(t, err)
			assert.InDelta(t, or.Func(f.theta), ow.Func(f.theta), 1e-14*math.Abs(or.Func(f.theta)))
			gw, gr := make([]float64, len(f.theta)), make([]float64, len(f.theta))
			ow.Grad(gw, f.theta)
			or.Grad(gr, f.theta)
			assert.Less(t, floats.Distance(gw, gr, 2), 1e-13*floats.Norm(gr, 2))
		})
		if _, ok := c.loss.(nn.Classifier); ok {
			got, err := f.m.Accuracy(f.theta, wb)
			require.NoError(t, err)
			want, err := f.m.Accuracy(f.theta, rb)
			require.NoError(t, err)
			assert.InDelta(t, want, got, 1e-15, "%s accuracy", c.loss.Name())
		}
	}
}

// A weighted Hessian is the Hessian of the weighted mean loss: against
// central differences of the weighted gradient, for real weights, on the
// Kronecker route (an MLP) and the matrix-free one (two activations in a
// row).
func TestWeightedHessianFiniteDifferences(t *testing.T) {
	generic, err := nn.New(nn.Dense{In: 3, Out: 4}, nn.Elementwise{Size: 4, Act: nn.Tanh{}}, nn.Elementwise{Size: 4, Act: nn.Sigmoid{}}, nn.Dense{In: 4, Out: 4})
	require.NoError(t, err)
	for _, c := range everyLoss() {
		mlp, err := nn.NewMLP([]int{3, 4, 3, c.out}, []string{"softplus", "tanh", "identity"})
		require.NoError(t, err)
		nets := map[string]*nn.Network{"mlp": mlp}
		if c.out == 4 {
			nets["generic"] = generic
		}
		for name, net := range nets {
			t.Run(c.loss.Name()+"/"+name, func(t *testing.T) {
				f := fixtureOf(t, net, c.loss, 6, 52)
				f.b.W = []float64{0.3, 1.7, 0, 2.2, 0.9, 1}
				h := f.dense(t, Hessian, nil)
				obj, err := f.m.Objective(f.b)
				require.NoError(t, err)
				P := len(f.theta)
				jac := mat.NewDense(P, P, nil)
				fd.Jacobian(jac, func(g, th []float64) { obj.Grad(g, th) }, f.theta, &fd.JacobianSettings{Formula: fd.Central, Step: 1e-5})
				assert.Less(t, relErr(h, jac), 1e-7)
			})
		}
	}
}

// A first chunk of samples that weighs nothing adds nothing: the matrices of
// a batch of 300 whose first 256 samples have weight 0 are those of its
// last 44, on both routes (the Kronecker assembly of an MLP, the
// matrix-free products of a network outside the pattern).
func TestZeroWeightChunk(t *testing.T) {
	generic, err := nn.New(nn.Dense{In: 3, Out: 4}, nn.Elementwise{Size: 4, Act: nn.Tanh{}}, nn.Elementwise{Size: 4, Act: nn.Sigmoid{}}, nn.Dense{In: 4, Out: 3})
	require.NoError(t, err)
	mlp, err := nn.NewMLP([]int{3, 4, 3}, []string{"tanh", "identity"})
	require.NoError(t, err)
	for name, net := range map[string]*nn.Network{"mlp": mlp, "generic": generic} {
		f := fixtureOf(t, net, nn.SoftmaxCrossEntropy{}, 300, 53)
		wb := f.b
		wb.W = make([]float64, 300)
		for i := chunk; i < 300; i++ {
			wb.W[i] = 1
		}
		tail := rows(f.b, chunk, 300)
		for _, k := range []Kind{Hessian, GGN, EmpiricalFisher, GradientCovariance} {
			got, err := f.m.Dense(k, f.theta, wb, &Options{Workers: 1})
			require.NoError(t, err)
			want, err := f.m.Dense(k, f.theta, tail, nil)
			require.NoError(t, err)
			assert.Less(t, relErr(got, want), 1e-12, "%s %v", name, k)
		}
		s, err := f.m.GradientStats(f.theta, wb, nil)
		require.NoError(t, err)
		want, err := f.m.GradientStats(f.theta, tail, nil)
		require.NoError(t, err)
		assert.Less(t, floats.Distance(s.Variance, want.Variance, 2), 1e-12*floats.Norm(want.Variance, 2), name)
	}
}

// The weighted Monte-Carlo Fisher against its definition
// Σ_i w_i Σ_s g_is g_isᵀ / (W·k), g_is the one-sample gradient at the s-th
// label drawn for sample i (the same labels: the same seed).
func TestWeightedMCFisher(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 6, 54)
	f.b.W = []float64{0.5, 0, 2, 1, 3, 0.25}
	opt := &Options{Samples: 3, Seed: 7}
	got := f.dense(t, MCFisher, opt)
	ys, err := f.m.sampleTargets(f.theta, f.b, 3, &Options{Samples: 3, Seed: 7})
	require.NoError(t, err)
	P := len(f.theta)
	want := mat.NewSymDense(P, nil)
	W := floats.Sum(f.b.W)
	for _, y := range ys {
		for i, w := range f.b.W {
			g := f.perSampleGrad(i, y.RawRowView(i))
			want.SymRankOne(want, w/(W*3), mat.NewVecDense(P, g))
		}
	}
	assert.Less(t, relErr(got, want), 1e-13)
	V, err := f.m.GGNFactor(MCFisher, f.theta, f.b, opt)
	require.NoError(t, err)
	var vvt mat.Dense
	vvt.Mul(V, V.T())
	assert.Less(t, relErr(&vvt, want), 1e-13, "factor")
}

// The Fisher of the losses whose output Fisher is not their output
// Hessian, against its definition Σ_i w_i J_iᵀ F_z,i J_i / W with J_i from
// central differences and F_z,i = E_y[∇_zℓ ∇_zℓᵀ] by enumerating the labels
// (class-weighted cross-entropy) or in closed form diag(e^{−s}, ½) (the
// Gaussian); the GGN against Σ_i w_i J_iᵀ H_z,i J_i / W at the true
// targets. The two differ, and the Fisher is positive semi-definite where
// the Gaussian's GGN is not.
func TestFisherOfLabelledLosses(t *testing.T) {
	for _, loss := range labelled {
		t.Run(loss.Name(), func(t *testing.T) {
			f := newFixture(t, []int{3, 4, 4}, []string{"tanh", "identity"}, loss, 5, 55)
			f.b.W = []float64{1, 0.5, 2, 0, 1.25}
			P, C, n := len(f.theta), f.m.Net.OutSize(), f.b.Len()
			W := floats.Sum(f.b.W)
			fisher, ggn := mat.NewDense(P, P, nil), mat.NewDense(P, P, nil)
			hz := mat.NewSymDense(C, nil)
			for i := 0; i < n; i++ {
				x := mat.NewDense(1, f.m.Net.InSize(), append([]float64(nil), f.b.X.RawRowView(i)...))
				J := mat.NewDense(C, P, nil)
				fd.Jacobian(J, func(z, th []float64) {
					copy(z, nn.NewTape(f.m.Net, loss).Forward(th, x).RawRowView(0))
				}, f.theta, &fd.JacobianSettings{Formula: fd.Central})
				z := nn.NewTape(f.m.Net, loss).Forward(f.theta, x)
				fz := mat.NewDense(C, C, nil)
				switch l := loss.(type) {
				case nn.WeightedSoftmaxCrossEntropy:
					p := mat.NewDense(1, C, nil)
					l.Probabilities(p, z)
					g := mat.NewDense(1, C, nil)
					for k := 0; k < C; k++ {
						l.Grad(g, z, mat.NewDense(1, 1, []float64{float64(k)}))
						var gg mat.Dense
						gg.Outer(p.At(0, k), g.RowView(0), g.RowView(0))
						fz.Add(fz, &gg)
					}
				case nn.GaussianNLL:
					for d := 0; d < C/2; d++ {
						fz.Set(d, d, math.Exp(-z.At(0, C/2+d)))
						fz.Set(C/2+d, C/2+d, 0.5)
					}
				}
				loss.Hessian(hz, z.RawRowView(0), f.b.Y.RawRowView(i))
				for _, c := range []struct {
					dst *mat.Dense
					m   mat.Matrix
				}{{fisher, fz}, {ggn, hz}} {
					var tmp, term mat.Dense
					tmp.Mul(c.m, J)
					term.Mul(J.T(), &tmp)
					term.Scale(f.b.W[i]/W, &term)
					c.dst.Add(c.dst, &term)
				}
			}
			F, G := f.dense(t, Fisher, nil), f.dense(t, GGN, nil)
			assert.Less(t, relErr(F, fisher), 1e-7, "Fisher")
			assert.Less(t, relErr(G, ggn), 1e-7, "GGN")
			assert.Greater(t, relErr(F, G), 0.05, "F ≠ G")
			var eig mat.EigenSym
			require.True(t, eig.Factorize(F, false))
			ev := eig.Values(nil)
			assert.GreaterOrEqual(t, ev[0], -1e-12*ev[len(ev)-1], "Fisher positive semi-definite")
			if _, ok := loss.(nn.GaussianNLL); ok {
				require.True(t, eig.Factorize(G, false))
				ev = eig.Values(nil)
				assert.Less(t, ev[0], -1e-3*ev[len(ev)-1], "the Gaussian's GGN is indefinite")
			}

			// The factor of the Fisher; the GGN's where it exists.
			V, err := f.m.GGNFactor(Fisher, f.theta, f.b, nil)
			require.NoError(t, err)
			var vvt mat.Dense
			vvt.Mul(V, V.T())
			assert.Less(t, relErr(&vvt, F), 1e-13, "Fisher factor")
			V, err = f.m.GGNFactor(GGN, f.theta, f.b, nil)
			if _, ok := loss.(nn.GaussianNLL); ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "indefinite")
			} else {
				require.NoError(t, err)
				vvt.Mul(V, V.T())
				assert.Less(t, relErr(&vvt, G), 1e-13, "GGN factor")
			}

			// The Monte-Carlo Fisher estimates the Fisher, not the GGN.
			mc := f.dense(t, MCFisher, &Options{Samples: 4000, Seed: 3})
			assert.Less(t, relErr(mc, F), 0.1, "Monte-Carlo Fisher")
		})
	}
}

// Sample weights that are not N, finite and ≥ 0 with a positive sum are
// refused, each with a message that says what is wrong.
func TestWeightsValidation(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 3, 56)
	for _, c := range []struct {
		name string
		w    []float64
		msg  string
	}{
		{"too few", []float64{1, 1}, "2 sample weights for 3 samples"},
		{"NaN", []float64{1, math.NaN(), 1}, "sample weight 1 is NaN"},
		{"negative", []float64{1, 1, -0.5}, "sample weight 2 is -0.5"},
		{"infinite", []float64{math.Inf(1), 1, 1}, "sample weight 0 is +Inf"},
		{"all zero", []float64{0, 0, 0}, "sum to 0"},
		{"overflowing sum", []float64{math.MaxFloat64, math.MaxFloat64, 1}, "sum to +Inf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := f.b
			b.W = c.w
			err := f.m.Validate(f.theta, b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
			_, err = f.m.Dense(GGN, f.theta, b, nil)
			assert.Error(t, err)
		})
	}
}

// Sums over weighted parts of a batch merge into the sum over the whole,
// the covariance's between-part term weighted by the parts' total weights.
func TestSumMergeWeighted(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SigmoidBCE{}, 20, 57)
	rng := rand.New(rand.NewPCG(57, 1))
	f.b.W = make([]float64, 20)
	for i := range f.b.W {
		f.b.W[i] = rng.Float64() * 3
	}
	for _, k := range []Kind{GGN, EmpiricalFisher, GradientCovariance} {
		whole, err := f.m.DenseSum(k, f.theta, f.b, nil)
		require.NoError(t, err)
		a, err := f.m.DenseSum(k, f.theta, rows(f.b, 0, 7), nil)
		require.NoError(t, err)
		b, err := f.m.DenseSum(k, f.theta, rows(f.b, 7, 20), nil)
		require.NoError(t, err)
		require.NoError(t, a.Merge(b))
		assert.InDelta(t, floats.Sum(f.b.W), a.W, 1e-13)
		assert.Less(t, relErr(a.Mean(), whole.Mean()), 1e-13, "%v", k)
	}
}
