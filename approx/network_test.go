package approx

import (
	"math"
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

// kronBlock returns kron(G, A) as a dense matrix.
func kronBlock(f KronFactors) *mat.Dense {
	var k mat.Dense
	k.Kronecker(f.G, f.A)
	return &k
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
				f, err := KFACFactors(m, theta, b, &FactorSettings{Kind: c.kind})
				require.NoError(t, err)
				for l := range f {
					blk, err := m.Block(c.matrix, l, theta, b, nil)
					require.NoError(t, err)
					assert.Less(t, relDiffMat(kronBlock(f[l]), blk), 1e-13, "%v layer %d", c.kind, l)
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
	f, err := KFACFactors(m, theta, b, nil)
	require.NoError(t, err)
	require.Len(t, f, 3)
	for l := range f {
		blk, err := m.Block(curvature.GGN, l, theta, b, nil)
		require.NoError(t, err)
		assert.Less(t, relDiffMat(kronBlock(f[l]), blk), 1e-13, "layer %d", l)
	}
	// And not for a nonlinear one: the factorisation is an approximation.
	m2, theta2, b2 := netFixture(t, []int{4, 3, 2}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 20, 3)
	f2, err := KFACFactors(m2, theta2, b2, nil)
	require.NoError(t, err)
	blk, err := m2.Block(curvature.GGN, 0, theta2, b2, nil)
	require.NoError(t, err)
	assert.Greater(t, relDiffMat(kronBlock(f2[0]), blk), 1e-3)
}

// Monte-Carlo factors approach the exact ones as the number of sampled
// labels grows (relative error below 0.05 at 4000 draws and below a fifth
// of the error at 40).
func TestKFACMonteCarloConverges(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 10, 4)
	exact, err := KFACFactors(m, theta, b, nil)
	require.NoError(t, err)
	errAt := func(k int) float64 {
		f, err := KFACFactors(m, theta, b, &FactorSettings{Kind: MCFactors, Samples: k, Seed: 1})
		require.NoError(t, err)
		worst := 0.0
		for l := range f {
			assert.Equal(t, exact[l].A, f[l].A)
			worst = max(worst, relDiffMat(f[l].G, exact[l].G))
		}
		return worst
	}
	small, large := errAt(40), errAt(4000)
	assert.Less(t, large, 0.05)
	assert.Less(t, large, small/5)
}

// The K-FAC approximation built from a network solves with damping like
// the dense kron(G, A) + λI, per block.
func TestKFACOfSolve(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"relu", "identity"}, nn.SigmoidBCE{}, 8, 5)
	k, err := KFACOf(m, theta, b, nil, nil)
	require.NoError(t, err)
	f, err := KFACFactors(m, theta, b, nil)
	require.NoError(t, err)
	dense := mat.NewSymDense(m.Net.NumParams(), nil)
	for l, r := range m.ParamBlocks() {
		kb := kronBlock(f[l])
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

func TestKFACFactorsErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	_, err := KFACFactors(m, theta, b, &FactorSettings{Samples: -1})
	assert.Error(t, err)
	_, err = KFACFactors(m, theta, b, &FactorSettings{Kind: 7})
	assert.Error(t, err)
	_, err = KFACFactors(m, theta[1:], b, nil)
	assert.Error(t, err)
	_, err = KFACFactors(m, theta, curvature.Batch{}, nil)
	assert.Error(t, err)
	_, err = ParseFactorKind("kflr")
	assert.Error(t, err)
	k, err := ParseFactorKind("mc")
	require.NoError(t, err)
	assert.Equal(t, MCFactors, k)
}

// UpdateTapeFactors is the running average of two TapeFactors results:
// ε·F(batch 1) + (1−ε)·F(batch 2), entry by entry, for every kind of
// factor (the Monte-Carlo draws replayed from the same seeds).
func TestUpdateTapeFactors(t *testing.T) {
	m, theta, b1 := netFixture(t, []int{5, 7, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 9, 11)
	_, _, b2 := netFixture(t, []int{5, 7, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 13, 12)
	const eps = 0.8
	for _, kind := range []FactorKind{ExactFactors, MCFactors, EmpiricalFactors} {
		t.Run(kind.String(), func(t *testing.T) {
			tape := func(b curvature.Batch) *nn.Tape {
				tp := nn.NewTape(m.Net, m.Loss)
				tp.Forward(theta, b.X)
				return tp
			}
			f1, err := TapeFactors(tape(b1), b1.Y, &FactorSettings{Kind: kind, Seed: 1})
			require.NoError(t, err)
			f2, err := TapeFactors(tape(b2), b2.Y, &FactorSettings{Kind: kind, Seed: 2})
			require.NoError(t, err)
			run, err := TapeFactors(tape(b1), b1.Y, &FactorSettings{Kind: kind, Seed: 1})
			require.NoError(t, err)
			require.NoError(t, UpdateTapeFactors(run, eps, tape(b2), b2.Y, &FactorSettings{Kind: kind, Seed: 2}))
			for l := range run {
				for _, pair := range [][3]mat.Symmetric{{run[l].A, f1[l].A, f2[l].A}, {run[l].G, f1[l].G, f2[l].G}} {
					var want mat.SymDense
					want.ScaleSym(eps, pair[1])
					var part mat.SymDense
					part.ScaleSym(1-eps, pair[2])
					want.AddSym(&want, &part)
					assert.Less(t, relDiffMat(pair[0], &want), 1e-14, "layer %d", l)
				}
			}
		})
	}
}

func TestUpdateTapeFactorsErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	tp := nn.NewTape(m.Net, m.Loss)
	tp.Forward(theta, b.X)
	f, err := TapeFactors(tp, b.Y, nil)
	require.NoError(t, err)
	for _, c := range []struct {
		name  string
		dst   []KronFactors
		decay float64
	}{
		{"decay 1", f, 1},
		{"negative decay", f, -0.1},
		{"NaN decay", f, math.NaN()},
		{"too few layers", f[:1], 0.5},
		{"wrong size", []KronFactors{f[1], f[0]}, 0.5},
		{"not SymDense", []KronFactors{{G: f[0].G, A: mat.NewDiagDense(4, nil)}, f[1]}, 0.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Error(t, UpdateTapeFactors(c.dst, c.decay, tp, b.Y, nil))
		})
	}
}
