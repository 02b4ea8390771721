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

var allLosses = []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}}

type fixture struct {
	m     Model
	theta []float64
	b     Batch
}

// tinyModel returns the 2-3-2 tanh network with loss, and its parameters as
// Init draws them from the seed (seed, seed).
func tinyModel(t testing.TB, loss nn.Loss, seed uint64) (*Model, []float64) {
	t.Helper()
	net, err := nn.NewMLP([]int{2, 3, 2}, []string{"tanh", "identity"})
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(seed, seed)))
	return &Model{Net: net, Loss: loss}, theta
}

func newFixture(t testing.TB, sizes []int, acts []string, loss nn.Loss, n int, seed uint64) fixture {
	t.Helper()
	net, err := nn.NewMLP(sizes, acts)
	require.NoError(t, err)
	return fixtureOf(t, net, loss, n, seed)
}

func fixtureOf(t testing.TB, net *nn.Network, loss nn.Loss, n int, seed uint64) fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	for i := range theta {
		theta[i] += 0.3 * rng.NormFloat64()
	}
	C := net.OutSize()
	x := mat.NewDense(n, net.InSize(), nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rng.NormFloat64()
	}
	y := mat.NewDense(n, loss.TargetDim(C), nil)
	for i := 0; i < n; i++ {
		for k := 0; k < loss.TargetDim(C); k++ {
			switch loss.(type) {
			case nn.SoftmaxCrossEntropy, nn.WeightedSoftmaxCrossEntropy:
				y.Set(i, k, float64(rng.IntN(C)))
			case nn.SigmoidBCE:
				y.Set(i, k, float64(rng.IntN(2)))
			default:
				y.Set(i, k, rng.NormFloat64())
			}
		}
	}
	return fixture{Model{net, loss}, theta, Batch{X: x, Y: y}}
}

func (f fixture) dense(t testing.TB, k Kind, opt *Options) *mat.SymDense {
	t.Helper()
	d, err := f.m.Dense(k, f.theta, f.b, opt)
	require.NoError(t, err)
	return d
}

// fromOperator returns the matrix kind materialised from the products of
// its operator, the oracle of the dense assembly.
func (f fixture) fromOperator(t testing.TB, k Kind, opt *Options) *mat.SymDense {
	t.Helper()
	op, err := f.m.Operator(k, f.theta, f.b, opt)
	require.NoError(t, err)
	d, err := Materialize(op, 0)
	require.NoError(t, err)
	return d
}

// relErr returns ‖a − b‖_F / max(‖b‖_F, tiny).
func relErr(a, b mat.Matrix) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / math.Max(mat.Norm(b, 2), 1e-300)
}

// perSampleGrad returns ∇_θ ℓ(θ; x_i, y) by a one-sample backward pass.
func (f fixture) perSampleGrad(i int, y []float64) []float64 {
	t := nn.NewTape(f.m.Net, f.m.Loss)
	t.Forward(f.theta, mat.NewDense(1, f.m.Net.InSize(), append([]float64(nil), f.b.X.RawRowView(i)...)))
	g := make([]float64, len(f.theta))
	t.Backward(g, nil, mat.NewDense(1, len(y), y))
	return g
}

var activations = []string{"identity", "tanh", "sigmoid", "relu", "softplus", "elu", "gelu"}

// The dense Hessian, assembled from per-sample Kronecker structure, against
// central differences of the exact gradient (gonum diff/fd), on every
// activation and loss and a network deep enough for cross-layer terms.
func TestDenseHessianFiniteDifferences(t *testing.T) {
	for _, act := range activations {
		for _, loss := range allLosses {
			t.Run(act+"/"+loss.Name(), func(t *testing.T) {
				f := newFixture(t, []int{3, 4, 3, 3}, []string{act, act, act}, loss, 5, 1)
				h := f.dense(t, Hessian, nil)
				P := len(f.theta)
				obj, err := f.m.Objective(f.b)
				require.NoError(t, err)
				jac := mat.NewDense(P, P, nil)
				fd.Jacobian(jac, func(g, th []float64) { obj.Grad(g, th) }, f.theta, &fd.JacobianSettings{Formula: fd.Central, Step: 1e-5})
				assert.Less(t, relErr(h, jac), 1e-7)
			})
		}
	}
}

// Dense matrices equal the matrix-free operators' columns, for every kind.
func TestDenseEqualsOperator(t *testing.T) {
	for _, loss := range allLosses {
		f := newFixture(t, []int{4, 5, 3}, []string{"tanh", "sigmoid"}, loss, 7, 2)
		for _, k := range Kinds {
			t.Run(loss.Name()+"/"+k.String(), func(t *testing.T) {
				opt := &Options{Samples: 3, Seed: 5}
				assert.Less(t, relErr(f.dense(t, k, opt), f.fromOperator(t, k, opt)), 1e-12)
			})
		}
	}
}

// The GGN against its definition (1/N) Σ J_iᵀ H_z,i J_i with J_i from
// finite differences of the network output and H_z from the loss.
func TestGGNDefinition(t *testing.T) {
	for _, loss := range allLosses {
		t.Run(loss.Name(), func(t *testing.T) {
			f := newFixture(t, []int{3, 4, 3}, []string{"elu", "identity"}, loss, 4, 3)
			P, C, n := len(f.theta), f.m.Net.OutSize(), f.b.Len()
			want := mat.NewDense(P, P, nil)
			hz := mat.NewSymDense(C, nil)
			for i := 0; i < n; i++ {
				x := mat.NewDense(1, f.m.Net.InSize(), append([]float64(nil), f.b.X.RawRowView(i)...))
				J := mat.NewDense(C, P, nil)
				fd.Jacobian(J, func(z, th []float64) {
					tp := nn.NewTape(f.m.Net, f.m.Loss)
					copy(z, tp.Forward(th, x).RawRowView(0))
				}, f.theta, &fd.JacobianSettings{Formula: fd.Central})
				tp := nn.NewTape(f.m.Net, f.m.Loss)
				f.m.Loss.Hessian(hz, tp.Forward(f.theta, x).RawRowView(0), nil)
				var tmp, term mat.Dense
				tmp.Mul(hz, J)
				term.Mul(J.T(), &tmp)
				want.Add(want, &term)
			}
			want.Scale(1/float64(n), want)
			assert.Less(t, relErr(f.dense(t, GGN, nil), want), 1e-7)
		})
	}
}

// F = GGN, with the Fisher's expectation over y ~ p(y|z) computed exactly by
// enumerating the labels: every class for softmax cross-entropy, every
// binary vector for sigmoid BCE.
func TestFisherEqualsGGNByEnumeration(t *testing.T) {
	for _, loss := range []nn.Loss{nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		t.Run(loss.Name(), func(t *testing.T) {
			f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, loss, 5, 4)
			P, C, n := len(f.theta), f.m.Net.OutSize(), f.b.Len()
			tp := nn.NewTape(f.m.Net, f.m.Loss)
			z := tp.Forward(f.theta, f.b.X)
			fisher := mat.NewSymDense(P, nil)
			for i := 0; i < n; i++ {
				zi := z.RawRowView(i)
				var labels [][]float64
				var probs []float64
				switch loss.(type) {
				case nn.SoftmaxCrossEntropy:
					lse := 0.0
					for _, v := range zi {
						lse += math.Exp(v)
					}
					for c := 0; c < C; c++ {
						labels = append(labels, []float64{float64(c)})
						probs = append(probs, math.Exp(zi[c])/lse)
					}
				case nn.SigmoidBCE:
					for mask := 0; mask < 1<<C; mask++ {
						y := make([]float64, C)
						p := 1.0
						for k := 0; k < C; k++ {
							s := 1 / (1 + math.Exp(-zi[k]))
							if mask&(1<<k) != 0 {
								y[k] = 1
								p *= s
							} else {
								p *= 1 - s
							}
						}
						labels = append(labels, y)
						probs = append(probs, p)
					}
				}
				for j, y := range labels {
					g := f.perSampleGrad(i, y)
					fisher.SymRankOne(fisher, probs[j]/float64(n), mat.NewVecDense(P, g))
				}
			}
			assert.Less(t, relErr(f.dense(t, Fisher, nil), fisher), 1e-12)
			assert.Less(t, relErr(f.dense(t, GGN, nil), fisher), 1e-12)
		})
	}
}

// The empirical Fisher and gradient covariance against their definitions
// from one-sample backward passes, and EF − ḡḡᵀ = C.
func TestEmpiricalFisherAndCovariance(t *testing.T) {
	for _, loss := range allLosses {
		t.Run(loss.Name(), func(t *testing.T) {
			f := newFixture(t, []int{3, 4, 3}, []string{"softplus", "identity"}, loss, 6, 5)
			P, n := len(f.theta), f.b.Len()
			ef := mat.NewSymDense(P, nil)
			mean := make([]float64, P)
			for i := 0; i < n; i++ {
				g := f.perSampleGrad(i, f.b.Y.RawRowView(i))
				ef.SymRankOne(ef, 1/float64(n), mat.NewVecDense(P, g))
				floats.AddScaled(mean, 1/float64(n), g)
			}
			gotEF := f.dense(t, EmpiricalFisher, nil)
			assert.Less(t, relErr(gotEF, ef), 1e-12)
			var c mat.SymDense
			c.SymRankOne(ef, -1, mat.NewVecDense(P, mean))
			assert.Less(t, relErr(f.dense(t, GradientCovariance, nil), &c), 1e-10)
		})
	}
}

// H = GGN for an affine model with the MSE loss.
func TestHessianEqualsGGNForLinearMSE(t *testing.T) {
	f := newFixture(t, []int{5, 3}, []string{"identity"}, nn.MSE{}, 8, 6)
	assert.Less(t, relErr(f.dense(t, Hessian, nil), f.dense(t, GGN, nil)), 1e-13)
}

// GGN, Fisher, Monte-Carlo Fisher, empirical Fisher and gradient covariance
// are symmetric positive semi-definite: their smallest eigenvalue is at
// least −1e-12 of their largest.
func TestPositiveSemiDefinite(t *testing.T) {
	for _, loss := range allLosses {
		f := newFixture(t, []int{4, 5, 3}, []string{"gelu", "identity"}, loss, 6, 7)
		for _, k := range []Kind{GGN, Fisher, MCFisher, EmpiricalFisher, GradientCovariance} {
			t.Run(loss.Name()+"/"+k.String(), func(t *testing.T) {
				var eig mat.EigenSym
				require.True(t, eig.Factorize(f.dense(t, k, &Options{Samples: 2}), false))
				ev := eig.Values(nil)
				assert.GreaterOrEqual(t, ev[0], -1e-12*ev[len(ev)-1])
			})
		}
	}
}

// The batch matrix is the mean of the single-sample matrices (for the
// kinds that are means of per-sample terms; C is not).
func TestBatchIsMeanOfSamples(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 4, 8)
	P, n := len(f.theta), f.b.Len()
	for _, k := range []Kind{Hessian, GGN, EmpiricalFisher} {
		t.Run(k.String(), func(t *testing.T) {
			sum := mat.NewSymDense(P, nil)
			for i := 0; i < n; i++ {
				one := Batch{X: mat.DenseCopyOf(f.b.X.Slice(i, i+1, 0, 3)), Y: mat.DenseCopyOf(f.b.Y.Slice(i, i+1, 0, 1))}
				d, err := f.m.Dense(k, f.theta, one, nil)
				require.NoError(t, err)
				sum.AddSym(sum, d)
			}
			sum.ScaleSym(1/float64(n), sum)
			assert.Less(t, relErr(f.dense(t, k, nil), sum), 1e-13)
		})
	}
}

// The Monte-Carlo Fisher approaches the exact one as the number of sampled
// labels grows: with a fixed seed its relative error at k = 2000 is below
// 0.1 and below a fifth of the error at k = 20 (the error falls as 1/√k, so
// 100× more samples should give about a tenth).
func TestMCFisherConverges(t *testing.T) {
	for _, loss := range allLosses {
		t.Run(loss.Name(), func(t *testing.T) {
			f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, loss, 5, 9)
			exact := f.dense(t, Fisher, nil)
			small := relErr(f.dense(t, MCFisher, &Options{Samples: 20, Seed: 1}), exact)
			large := relErr(f.dense(t, MCFisher, &Options{Samples: 2000, Seed: 1}), exact)
			assert.Less(t, large, 0.1)
			assert.Less(t, large, small/5)
		})
	}
}

// Each layer block equals the corresponding block of the whole matrix.
func TestBlocks(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3, 2}, []string{"tanh", "relu", "identity"}, nn.SoftmaxCrossEntropy{}, 5, 10)
	for _, k := range Kinds {
		opt := &Options{Samples: 2, Seed: 3}
		whole := f.dense(t, k, opt)
		for bi, r := range f.m.ParamBlocks() {
			blk, err := f.m.Block(k, bi, f.theta, f.b, opt)
			require.NoError(t, err)
			want := whole.SliceSym(r[0], r[1])
			assert.Less(t, relErr(blk, want), 1e-12, "%v block %d", k, bi)
		}
	}
}

// A network outside the MLP pattern (two activations in a row) takes the
// matrix-free path, and its Hessian still matches finite differences.
func TestDenseGenericNetwork(t *testing.T) {
	net, err := nn.New(nn.Dense{In: 3, Out: 4}, nn.Elementwise{Size: 4, Act: nn.Tanh{}}, nn.Elementwise{Size: 4, Act: nn.Sigmoid{}}, nn.Dense{In: 4, Out: 2})
	require.NoError(t, err)
	f := fixtureOf(t, net, nn.MSE{}, 4, 12)
	h := f.dense(t, Hessian, nil)
	obj, err := f.m.Objective(f.b)
	require.NoError(t, err)
	P := len(f.theta)
	jac := mat.NewDense(P, P, nil)
	fd.Jacobian(jac, func(g, th []float64) { obj.Grad(g, th) }, f.theta, &fd.JacobianSettings{Formula: fd.Central})
	assert.Less(t, relErr(h, jac), 1e-7)
}

func TestBudget(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 3, 13)
	P := len(f.theta)
	_, err := f.m.Dense(Hessian, f.theta, f.b, &Options{Budget: P*P - 1})
	var be *BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, P*P, be.Floats)
	assert.Contains(t, err.Error(), "hessian")
	_, err = f.m.Dense(Hessian, f.theta, f.b, &Options{Budget: P * P})
	assert.NoError(t, err)
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 3, 14)
	nanX := mat.DenseCopyOf(f.b.X)
	nanX.Set(1, 2, math.NaN())
	badY := mat.DenseCopyOf(f.b.Y)
	badY.Set(0, 0, 7)
	cases := []struct {
		name  string
		theta []float64
		b     Batch
		opt   *Options
	}{
		{"NaN input", f.theta, Batch{X: nanX, Y: f.b.Y}, nil},
		{"label out of range", f.theta, Batch{X: f.b.X, Y: badY}, nil},
		{"label 1e300", f.theta, Batch{X: f.b.X, Y: mat.NewDense(3, 1, []float64{0, 1e300, 1})}, nil},
		{"empty batch", f.theta, Batch{X: &mat.Dense{}, Y: &mat.Dense{}}, nil},
		{"nil batch", f.theta, Batch{}, nil},
		{"short θ", f.theta[1:], f.b, nil},
		{"Inf θ", append([]float64{math.Inf(1)}, f.theta[1:]...), f.b, nil},
		{"wrong input width", f.theta, Batch{X: mat.NewDense(3, 2, nil), Y: f.b.Y}, nil},
		{"negative samples", f.theta, f.b, &Options{Samples: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range Kinds {
				assert.NotPanics(t, func() {
					_, err := f.m.Dense(k, c.theta, c.b, c.opt)
					assert.Error(t, err, "Dense %v", k)
					_, err = f.m.Operator(k, c.theta, c.b, c.opt)
					assert.Error(t, err, "Operator %v", k)
					_, err = f.m.Block(k, 0, c.theta, c.b, c.opt)
					assert.Error(t, err, "Block %v", k)
				})
			}
		})
	}
	_, err := f.m.Block(Hessian, 5, f.theta, f.b, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "layer block 5 out of range")
}

// Inputs so large that ā āᵀ overflows (1e155² = +Inf) while every product
// stays finite: tanh saturates, the Hessian is finite. The Kronecker
// assembly must not turn Inf·0 into NaN: Dense, Block and Diagonal give
// the operator's numbers.
func TestDenseHugeInputs(t *testing.T) {
	m, theta := tinyModel(t, nn.SoftmaxCrossEntropy{}, 1)
	b := Batch{X: mat.NewDense(2, 2, []float64{1e155, 1, 0.5, 0.5}), Y: mat.NewDense(2, 1, []float64{0, 1})}
	for _, k := range []Kind{Hessian, GGN} {
		op, err := m.Operator(k, theta, b, nil)
		require.NoError(t, err)
		want, err := Materialize(op, 0)
		require.NoError(t, err)
		for i := 0; i < want.SymmetricDim(); i++ {
			for j := 0; j < want.SymmetricDim(); j++ {
				require.False(t, math.IsNaN(want.At(i, j)) || math.IsInf(want.At(i, j), 0), "operator %v not finite", k)
			}
		}
		got, err := m.Dense(k, theta, b, nil)
		require.NoError(t, err)
		assert.Less(t, relErr(got, want), 1e-12, "%v", k)
		blk, err := m.Block(k, 0, theta, b, nil)
		require.NoError(t, err)
		assert.Less(t, relErr(blk, want.SliceSym(0, 9)), 1e-12, "%v block", k)
		diag, err := m.Diagonal(k, theta, b, nil)
		require.NoError(t, err)
		for i, v := range diag {
			assert.InDelta(t, want.At(i, i), v, 1e-12*math.Abs(want.At(i, i))+1e-300, "%v diagonal %d", k, i)
		}
	}
}

// A budget left at 0 is DefaultBudget: the dense GGN of a 784-256-10
// network (203,530 parameters, a 331 GB matrix) is refused with an error
// that says how to raise the limit, before anything is allocated; a
// negative budget turns the check off.
func TestDefaultBudget(t *testing.T) {
	net, err := nn.NewMLP([]int{784, 256, 10}, []string{"tanh", "identity"})
	require.NoError(t, err)
	m := &Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta := make([]float64, net.NumParams())
	b := Batch{X: mat.NewDense(1, 784, nil), Y: mat.NewDense(1, 1, nil)}
	for _, opt := range []*Options{nil, {}} {
		_, err = m.Dense(GGN, theta, b, opt)
		var be *BudgetError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, DefaultBudget, be.Budget)
		assert.Equal(t, 203530*203530, be.Floats)
		assert.Contains(t, err.Error(), "raise the Budget setting")
	}
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 3, 15)
	_, err = f.m.Dense(GGN, f.theta, f.b, &Options{Budget: Unlimited})
	assert.NoError(t, err)
	assert.Error(t, CheckFloats("x", DefaultBudget+1, 0))
	assert.NoError(t, CheckFloats("x", DefaultBudget+1, Unlimited))
}

// A model without its network or loss, or a nil *Model, is an error that
// says so from every entry point that returns one, never a nil
// dereference; ParamBlocks, which returns none, panics with a curvature:
// message.
func TestIncompleteModel(t *testing.T) {
	f := newFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.MSE{}, 3, 16)
	for name, m := range map[string]*Model{
		"zero":    {},
		"no loss": {Net: f.m.Net},
		"no net":  {Loss: f.m.Loss},
		"nil":     nil,
	} {
		t.Run(name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				require.Error(t, err, what)
				assert.Contains(t, err.Error(), "curvature: model needs a network and a loss", what)
			}
			require.NotPanics(t, func() {
				_, err := m.Dense(GGN, f.theta, f.b, nil)
				check("Dense", err)
				_, err = m.Block(GGN, 0, f.theta, f.b, nil)
				check("Block", err)
				_, err = m.DenseSum(GGN, f.theta, f.b, nil)
				check("DenseSum", err)
				_, err = m.Objective(f.b)
				check("Objective", err)
				_, err = m.Operator(GGN, f.theta, f.b, nil)
				check("Operator", err)
				_, err = m.Diagonal(GGN, f.theta, f.b, nil)
				check("Diagonal", err)
				check("Validate", m.Validate(f.theta, f.b))
			})
			if m == nil || m.Net == nil {
				assert.PanicsWithValue(t, "curvature: ParamBlocks of a model without a network", func() { m.ParamBlocks() })
			}
		})
	}
}

// A matrix that overflows — the empirical Fisher of a target of 1e200,
// whose per-sample gradients square to +Inf — is an error naming an
// entry and its value (+Inf, not "NaN"), by Dense, Block and Diagonal
// alike (the diagonal returned +Inf with a nil error).
func TestNonFiniteNamesValue(t *testing.T) {
	m, theta := tinyModel(t, nn.MSE{}, 2)
	b := Batch{X: mat.NewDense(2, 2, []float64{1, 0.5, -0.5, 1}), Y: mat.NewDense(2, 2, []float64{1e200, 0, 1, 1})}
	_, err := m.Dense(EmpiricalFisher, theta, b, nil)
	require.ErrorIs(t, err, ErrNonFinite)
	assert.Regexp(t, `empirical_fisher: non-finite value: entry \(\d+, \d+\) is \+Inf`, err.Error())
	_, err = m.Block(EmpiricalFisher, 1, theta, b, nil)
	require.ErrorIs(t, err, ErrNonFinite)
	assert.Contains(t, err.Error(), "is +Inf")
	_, err = m.Diagonal(EmpiricalFisher, theta, b, nil)
	require.ErrorIs(t, err, ErrNonFinite, "the diagonal overflows as the matrix does")
	assert.Regexp(t, `empirical_fisher diagonal: non-finite value: entry \d+ is \+Inf`, err.Error())
}
