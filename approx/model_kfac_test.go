package approx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// netFixture is a random MLP, loss and batch.
func netFixture(t testing.TB, sizes []int, acts []string, loss nn.Loss, n int, seed uint64) (*curvature.Model, []float64, curvature.Batch) {
	t.Helper()
	net, err := nn.NewMLP(sizes, acts)
	require.NoError(t, err)
	rnd := newRand(seed)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rnd)
	for i := range theta {
		theta[i] += 0.2 * rnd.NormFloat64()
	}
	C := sizes[len(sizes)-1]
	x := randDense(rnd, n, sizes[0])
	y := mat.NewDense(n, loss.TargetDim(C), nil)
	for i := 0; i < n; i++ {
		for k := 0; k < loss.TargetDim(C); k++ {
			switch loss.(type) {
			case nn.SoftmaxCrossEntropy:
				y.Set(i, k, float64(rnd.IntN(C)))
			case nn.SigmoidBCE:
				y.Set(i, k, float64(rnd.IntN(2)))
			default:
				y.Set(i, k, rnd.NormFloat64())
			}
		}
	}
	return &curvature.Model{Net: net, Loss: loss}, theta, curvature.Batch{X: x, Y: y}
}

// kronBlock returns kron(G, A) of a Kronecker block as a dense matrix.
func kronBlock(k *Kron) *mat.Dense {
	g, a := k.Factors()
	var d mat.Dense
	d.Kronecker(g, a)
	return &d
}

// K-FAC is exact where it must be: with exact factors on one sample, every
// layer's kron(G, A) is the GGN block, whatever the network and loss (one
// sample makes E[δδᵀ ⊗ āāᵀ] = E[δδᵀ] ⊗ E[āāᵀ]); with empirical factors on
// one sample, it is the empirical Fisher block.
func TestKFACExactOnOneSample(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		t.Run(loss.Name(), func(t *testing.T) {
			m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, loss, 1, 1)
			for _, c := range []struct {
				kind   FactorKind
				matrix curvature.Kind
			}{{ExactFactors, curvature.GGN}, {EmpiricalFactors, curvature.EmpiricalFisher}} {
				k, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: c.kind})
				require.NoError(t, err)
				require.Equal(t, 2, k.NumBlocks())
				for l := 0; l < k.NumBlocks(); l++ {
					blk, err := m.Block(c.matrix, l, theta, b, nil)
					require.NoError(t, err)
					assert.Less(t, relDiffMat(kronBlock(k.Kron(l)), blk), 1e-13, "%v layer %d", c.kind, l)
				}
			}
		})
	}
}

// For a deep linear network with the MSE loss the backpropagated factor is
// the same for every sample, so K-FAC (exact factors) equals every GGN
// layer block on a whole batch.
func TestKFACExactDeepLinear(t *testing.T) {
	m, theta, b := netFixture(t, []int{4, 3, 3, 2}, []string{"identity", "identity", "identity"}, nn.MSE{}, 20, 2)
	k, err := ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)
	require.Equal(t, 3, k.NumBlocks())
	for l := 0; l < k.NumBlocks(); l++ {
		blk, err := m.Block(curvature.GGN, l, theta, b, nil)
		require.NoError(t, err)
		assert.Less(t, relDiffMat(kronBlock(k.Kron(l)), blk), 1e-13, "layer %d", l)
	}
	// And not for a nonlinear one: the factorisation is an approximation.
	m2, theta2, b2 := netFixture(t, []int{4, 3, 2}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 20, 3)
	k2, err := ModelKFAC(m2, theta2, b2, nil)
	require.NoError(t, err)
	blk, err := m2.Block(curvature.GGN, 0, theta2, b2, nil)
	require.NoError(t, err)
	assert.Greater(t, relDiffMat(kronBlock(k2.Kron(0)), blk), 1e-3)
}

// Monte-Carlo factors approach the exact ones as the number of sampled
// labels grows (relative error below 0.05 at 4000 draws and below a fifth
// of the error at 40).
func TestKFACMonteCarloConverges(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 10, 4)
	exact, err := ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)
	errAt := func(samples int) float64 {
		k, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: MCFactors, Samples: samples, Seed: 1})
		require.NoError(t, err)
		worst := 0.0
		for l := 0; l < k.NumBlocks(); l++ {
			g, a := k.Kron(l).Factors()
			eg, ea := exact.Kron(l).Factors()
			assert.Equal(t, ea, a)
			worst = max(worst, relDiffMat(g, eg))
		}
		return worst
	}
	small, large := errAt(40), errAt(4000)
	assert.Less(t, large, 0.05)
	assert.Less(t, large, small/5)
}

// The K-FAC approximation built from a network solves with damping like
// the dense kron(G, A) + λI, per block.
func TestModelKFACSolve(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"relu", "identity"}, nn.SigmoidBCE{}, 8, 5)
	k, err := ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)
	dense := mat.NewSymDense(m.Net.NumParams(), nil)
	for l, r := range m.ParamBlocks() {
		kb := kronBlock(k.Kron(l))
		for i := r[0]; i < r[1]; i++ {
			for j := i; j < r[1]; j++ {
				dense.SetSym(i, j, kb.At(i-r[0], j-r[0]))
			}
		}
	}
	v := randVec(newRand(6), m.Net.NumParams())
	got := make([]float64, len(v))
	require.NoError(t, k.SolveDampedTo(got, v, 0.1))
	assert.Less(t, relDiff(got, denseSolve(t, dense, v, 0.1)), 1e-10)
}

func TestModelKFACErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	_, err := ModelKFAC(m, theta, b, &KFACSettings{Samples: -1})
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta, b, &KFACSettings{Factors: 7})
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta[1:], b, nil)
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta, curvature.Batch{}, nil)
	assert.Error(t, err)
	_, err = ParseFactorKind("kflr")
	assert.Error(t, err)
	kind, err := ParseFactorKind("mc")
	require.NoError(t, err)
	assert.Equal(t, MCFactors, kind)
}

// Update is the running average of two batches' statistics:
// ε·F(batch 1) + (1−ε)·F(batch 2), entry by entry, for every kind of
// factor (the Monte-Carlo draws replayed from the same seeds).
func TestKFACUpdate(t *testing.T) {
	m, theta, b1 := netFixture(t, []int{5, 7, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 9, 11)
	_, _, b2 := netFixture(t, []int{5, 7, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 13, 12)
	const eps = 0.8
	for _, kind := range []FactorKind{ExactFactors, MCFactors, EmpiricalFactors} {
		t.Run(kind.String(), func(t *testing.T) {
			rng := func(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }
			k1, err := ModelKFAC(m, theta, b1, &KFACSettings{Factors: kind, Seed: 1})
			require.NoError(t, err)
			k2, err := ModelKFAC(m, theta, b2, &KFACSettings{Factors: kind, Seed: 2})
			require.NoError(t, err)
			// One generator replaying seed 1 then seed 2's draws is not
			// possible, so the running K-FAC takes batch 1 with seed 1's
			// generator and batch 2 after its generator is swapped.
			run, err := NewKFAC(m.Net, &KFACSettings{Factors: kind, Rand: rng(1)})
			require.NoError(t, err)
			tape := func(b curvature.Batch) *nn.Tape {
				tp := nn.NewTape(m.Net, m.Loss)
				tp.Forward(theta, b.X)
				return tp
			}
			require.NoError(t, run.Update(tape(b1), b1.Y, 0))
			run.rng = rng(2)
			require.NoError(t, run.Update(tape(b2), b2.Y, eps))
			for l := 0; l < run.NumBlocks(); l++ {
				rg, ra := run.Kron(l).Factors()
				g1, a1 := k1.Kron(l).Factors()
				g2, a2 := k2.Kron(l).Factors()
				for _, f := range [][3]mat.Symmetric{{ra, a1, a2}, {rg, g1, g2}} {
					var want mat.SymDense
					want.ScaleSym(eps, f[1])
					var part mat.SymDense
					part.ScaleSym(1-eps, f[2])
					want.AddSym(&want, &part)
					assert.Less(t, relDiffMat(f[0], &want), 1e-14, "layer %d", l)
				}
			}
			// Products after an update see it (the factors' lower
			// triangles follow the statistics written to the upper ones).
			v := randVec(newRand(13), run.Dim())
			got := make([]float64, len(v))
			run.MulVecTo(got, v)
			assert.Less(t, relDiff(got, denseMulVec(run.Dense(), v)), 1e-13)
		})
	}
}

func TestKFACUpdateErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	tp := nn.NewTape(m.Net, m.Loss)
	tp.Forward(theta, b.X)
	k, err := NewKFAC(m.Net, nil)
	require.NoError(t, err)
	for _, decay := range []float64{1, -0.1, math.NaN()} {
		assert.Error(t, k.Update(tp, b.Y, decay), "decay %v", decay)
	}
	// Non-finite statistics are reported, not kept silently, with the
	// statistic and its value: ā āᵀ of an input of 1e200 overflows to +Inf.
	bad := mat.DenseCopyOf(b.X)
	bad.Set(0, 0, 1e200)
	tp.Forward(theta, bad)
	err = k.Update(tp, b.Y, 0)
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
	assert.ErrorContains(t, err, "K-FAC statistics of layer 0: A[0, 0] = +Inf")
	// A tape of another network is a programming error.
	other, err := nn.NewMLP([]int{3, 4, 2}, []string{"tanh", "identity"})
	require.NoError(t, err)
	assert.Panics(t, func() { _ = k.Update(nn.NewTape(other, m.Loss), b.Y, 0) })
}

// NewKFAC checks the memory budget before it allocates: a 100000→10 layer
// would need 10¹⁰ floats for its A factor.
func TestNewKFACBudget(t *testing.T) {
	net, err := nn.NewMLP([]int{100000, 10}, []string{"identity"})
	require.NoError(t, err)
	_, err = NewKFAC(net, &KFACSettings{Budget: 1 << 28})
	var be *curvature.BudgetError
	require.ErrorAs(t, err, &be)
}

// With the default budget (settings nil) the same network is refused too.
func TestNewKFACDefaultBudget(t *testing.T) {
	net, err := nn.NewMLP([]int{100000, 10}, []string{"identity"})
	require.NoError(t, err)
	_, err = NewKFAC(net, nil)
	var be *curvature.BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, curvature.DefaultBudget, be.Budget)
}
