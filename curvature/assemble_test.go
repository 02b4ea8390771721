package curvature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// genericNet is outside the MLP pattern (two activations in a row), so its
// dense matrices come from matrix-free products.
func genericNet(t testing.TB, in, hidden, out int) *nn.Network {
	t.Helper()
	net, err := nn.New(nn.Dense{In: in, Out: hidden}, nn.Elementwise{Size: hidden, Act: nn.Tanh{}},
		nn.Elementwise{Size: hidden, Act: nn.Sigmoid{}}, nn.Dense{In: hidden, Out: out})
	require.NoError(t, err)
	return net
}

// upperBits returns the upper triangle of m as bits, to compare matrices
// exactly (NaN included).
func upperBits(m *mat.SymDense) []uint64 {
	raw := m.RawSymmetric()
	var bits []uint64
	for i := 0; i < raw.N; i++ {
		for _, v := range raw.Data[i*raw.Stride+i : i*raw.Stride+raw.N] {
			bits = append(bits, math.Float64bits(v))
		}
	}
	return bits
}

// The workers share the result, each task writing a part of it that no
// other writes, and the tasks do not depend on the worker count: so the
// matrix is the same bit for bit with 1, 2, 3 or 5 workers — not merely
// to rounding, since no sum is split between workers. Checked for every
// kind, on an MLP of four layers whose blocks span several tasks of
// columns, on a network the matrix-free route builds, and on a batch of
// two chunks (300 samples), for Dense, Block and DenseSum (with the
// covariance's Σ g).
func TestDenseWorkersBitForBit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(5)) // workers are at most GOMAXPROCS
	mlp, err := nn.NewMLP([]int{9, 30, 13, 17, 4}, []string{"tanh", "gelu", "sigmoid", "identity"})
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		net  *nn.Network
	}{{"mlp", mlp}, {"generic", genericNet(t, 3, 4, 2)}} {
		f := fixtureOf(t, c.net, nn.SoftmaxCrossEntropy{}, 300, 40)
		for _, k := range Kinds {
			t.Run(c.name+"/"+k.String(), func(t *testing.T) {
				opt := func(w int) *Options { return &Options{Samples: 2, Seed: 7, Workers: w} }
				one := upperBits(f.dense(t, k, opt(1)))
				blocks := f.m.ParamBlocks()
				oneBlock, err := f.m.Block(k, len(blocks)-2, f.theta, f.b, opt(1))
				require.NoError(t, err)
				oneSum, err := f.m.DenseSum(k, f.theta, f.b, opt(1))
				require.NoError(t, err)
				for _, w := range []int{2, 3, 5} {
					assert.Equal(t, one, upperBits(f.dense(t, k, opt(w))), "Dense, %d workers", w)
					blk, err := f.m.Block(k, len(blocks)-2, f.theta, f.b, opt(w))
					require.NoError(t, err)
					assert.Equal(t, upperBits(oneBlock), upperBits(blk), "Block, %d workers", w)
					s, err := f.m.DenseSum(k, f.theta, f.b, opt(w))
					require.NoError(t, err)
					assert.Equal(t, upperBits(oneSum.S), upperBits(s.S), "DenseSum, %d workers", w)
					assert.Equal(t, oneSum.G, s.G, "DenseSum's Σ g, %d workers", w)
				}
			})
		}
	}
}

// A four-layer MLP on a batch of two chunks, without and with sample
// weights (every tenth 0): the Kronecker assembly (the Hessian's cross
// terms between layers three apart, sums over chunks, the covariance's
// mean over both) against the matrix-free operators' columns, and
// DenseSum's S and Σ w_i g_i against their definitions.
func TestDenseDeepMultiChunk(t *testing.T) {
	net, err := nn.NewMLP([]int{4, 6, 5, 7, 3}, []string{"tanh", "softplus", "sigmoid", "identity"})
	require.NoError(t, err)
	f := fixtureOf(t, net, nn.SoftmaxCrossEntropy{}, 300, 41)
	rng := rand.New(rand.NewPCG(41, 1))
	w := make([]float64, f.b.Len())
	for i := range w {
		if i%10 != 0 {
			w[i] = 2 * rng.Float64()
		}
	}
	for _, weights := range [][]float64{nil, w} {
		f.b.W = weights
		W := f.b.weightSum()
		for _, k := range Kinds {
			t.Run(fmt.Sprintf("%v/weighted=%t", k, weights != nil), func(t *testing.T) {
				opt := &Options{Samples: 2, Seed: 3}
				want := f.fromOperator(t, k, opt)
				assert.Less(t, relErr(f.dense(t, k, opt), want), 1e-12)

				s, err := f.m.DenseSum(k, f.theta, f.b, opt)
				require.NoError(t, err)
				var mean mat.SymDense
				mean.ScaleSym(1/(W*float64(s.Draws)), s.S)
				assert.Less(t, relErr(&mean, want), 1e-12)
				if k == GradientCovariance {
					tp := nn.NewTape(f.m.Net, f.m.Loss)
					tp.SetWeights(weights)
					tp.Forward(f.theta, f.b.X)
					g := make([]float64, len(f.theta))
					tp.Backward(g, nil, f.b.Y)
					floats.Scale(W, g)
					assert.InDeltaSlice(t, g, s.G, 1e-12*floats.Norm(g, math.Inf(1)))
				}
			})
		}
	}
}

// The memory bound: building a dense matrix allocates the P×P result and
// per-layer work space, nothing of the result's size besides — no P×P sum
// per worker, no scaled copy, no block copies. Measured as every byte
// allocated during the call (runtime.MemStats.TotalAlloc), which bounds
// the peak; at P = 2,410 the matrix is 46 MB and the work space about 1
// MB, so a second P×P matrix would double the figure. DenseTo into a
// matrix of the right size allocates less than a tenth of one.
func TestDenseMemory(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	mlp, err := nn.NewMLP([]int{64, 24, 24, 10}, []string{"tanh", "tanh", "identity"})
	require.NoError(t, err)
	generic, err := nn.New(nn.Dense{In: 64, Out: 24}, nn.Elementwise{Size: 24, Act: nn.Tanh{}},
		nn.Elementwise{Size: 24, Act: nn.Sigmoid{}}, nn.Dense{In: 24, Out: 24}, nn.Elementwise{Size: 24, Act: nn.Tanh{}},
		nn.Dense{In: 24, Out: 10})
	require.NoError(t, err)
	allocated := func(f func()) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc - before.TotalAlloc)
	}
	for _, c := range []struct {
		name  string
		net   *nn.Network
		n     int
		kinds []Kind
	}{
		{"mlp", mlp, 48, Kinds},
		{"generic", generic, 8, []Kind{GGN}}, // the matrix-free route
	} {
		f := fixtureOf(t, c.net, nn.SoftmaxCrossEntropy{}, c.n, 42)
		P := len(f.theta)
		require.Equal(t, 2410, P)
		result := 8 * float64(P*P)
		for _, k := range c.kinds {
			for _, w := range []int{1, 2, 4} {
				opt := &Options{Samples: 2, Workers: w}
				var d *mat.SymDense
				bytes := allocated(func() {
					var err error
					d, err = f.m.Dense(k, f.theta, f.b, opt)
					require.NoError(t, err)
				})
				t.Logf("%s %v, %d workers: %.4f of the matrix's bytes", c.name, k, w, bytes/result)
				assert.GreaterOrEqual(t, bytes, result, "%s %v: the result is allocated", c.name, k)
				assert.LessOrEqual(t, bytes, 1.1*result, "%s %v, %d workers: %.3g bytes for a %.3g-byte matrix", c.name, k, w, bytes, result)
				bytes = allocated(func() { require.NoError(t, f.m.DenseTo(d, k, f.theta, f.b, opt)) })
				assert.LessOrEqual(t, bytes, 0.1*result, "%s %v, %d workers: DenseTo allocated %.3g bytes", c.name, k, w, bytes)
			}
		}
	}
}

// DenseTo gives Dense's matrix bit for bit, into an empty matrix (which it
// sizes) and into one holding another matrix; a matrix of another order
// panics, and an empty one over the budget is an error.
func TestDenseTo(t *testing.T) {
	f := newFixture(t, []int{3, 5, 4}, []string{"tanh", "identity"}, nn.MSE{}, 9, 43)
	P := len(f.theta)
	var dst mat.SymDense
	for _, k := range Kinds {
		require.NoError(t, f.m.DenseTo(&dst, k, f.theta, f.b, nil))
		assert.Equal(t, upperBits(f.dense(t, k, nil)), upperBits(&dst), "%v", k)
	}
	assert.PanicsWithValue(t, "curvature: destination of order 3 for a matrix of order 44", func() {
		_ = f.m.DenseTo(mat.NewSymDense(3, nil), GGN, f.theta, f.b, nil)
	})
	var be *BudgetError
	require.ErrorAs(t, f.m.DenseTo(&mat.SymDense{}, GGN, f.theta, f.b, &Options{Budget: P*P - 1}), &be)
	assert.Equal(t, P*P, be.Floats)
}

// Chunks of samples that weigh nothing are left out of the dense builds:
// with the last of two chunks at weight 0, every matrix is that of the
// first chunk alone (Monte-Carlo labels drawn once, so that the head's
// labels are the whole batch's), bit for bit with 1 and 3 workers; and the
// finiteness check, which runs on the last pass, runs on the last chunk
// that counts: a GGN that overflows in the first chunk (Kronecker route)
// and an empirical Fisher that does (Gram route) are still errors.
func TestDenseZeroWeightLastChunk(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	f := newFixture(t, []int{4, 6, 5, 3}, []string{"tanh", "sigmoid", "identity"}, nn.SoftmaxCrossEntropy{}, 300, 44)
	rng := rand.New(rand.NewPCG(44, 1))
	f.b.W = make([]float64, 300)
	for i := range chunk {
		if i%7 != 3 {
			f.b.W[i] = 2 * rng.Float64()
		}
	}
	head := rows(f.b, 0, chunk)
	for _, k := range Kinds {
		opt := func(w int) *Options { return &Options{Samples: 1, Seed: 5, Workers: w} }
		got := f.dense(t, k, opt(1))
		want, err := f.m.Dense(k, f.theta, head, opt(1))
		require.NoError(t, err)
		assert.Less(t, relErr(got, want), 1e-13, "%v", k)
		assert.Equal(t, upperBits(got), upperBits(f.dense(t, k, opt(3))), "%v, 3 workers", k)
	}

	// One linear layer with MSE: the GGN is Σ w_i ā_i ā_iᵀ ⊗ I, whose
	// entry (0, 0) overflows with an input of 1e160 on both routes (x²/N
	// overflows whichever factor a product scales first; 1e155 did not
	// where gonum's Dsyrk scales by α/N before squaring).
	net, err := nn.NewMLP([]int{2, 2}, []string{"identity"})
	require.NoError(t, err)
	g := fixtureOf(t, net, nn.MSE{}, 300, 45)
	g.b.W = f.b.W
	g.b.X.Set(5, 0, 1e160)
	_, err = g.m.Dense(GGN, g.theta, g.b, nil)
	require.ErrorIs(t, err, ErrNonFinite)
	h := fixtureOf(t, net, nn.MSE{}, 300, 46)
	h.b.W = f.b.W
	h.b.Y.Set(5, 0, 1e200)
	_, err = h.m.Dense(EmpiricalFisher, h.theta, h.b, nil)
	require.ErrorIs(t, err, ErrNonFinite)
}
