package curvature

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// progressLog records the reports of a Progress and counts calls that
// overlap another (there must be none).
type progressLog struct {
	done, total []int
	inside      atomic.Int32
	overlaps    atomic.Int32
}

func (l *progressLog) report(done, total int) {
	if l.inside.Add(1) != 1 {
		l.overlaps.Add(1)
	}
	l.done = append(l.done, done)
	l.total = append(l.total, total)
	runtime.Gosched() // give an overlapping call its chance
	l.inside.Add(-1)
}

// check asserts that the reports never overlapped, that done rises
// strictly within the total, and that the last report is done == total,
// and returns that total.
func (l *progressLog) check(t *testing.T) int {
	t.Helper()
	require.NotEmpty(t, l.done)
	assert.Zero(t, l.overlaps.Load(), "overlapping calls")
	for i, d := range l.done {
		assert.LessOrEqual(t, d, l.total[i], "report %d", i)
		if i > 0 {
			assert.Greater(t, d, l.done[i-1], "report %d", i)
			assert.GreaterOrEqual(t, l.total[i], l.total[i-1], "report %d", i)
		}
	}
	last := len(l.done) - 1
	assert.Equal(t, l.total[last], l.done[last], "the last report ends the build")
	return l.total[last]
}

// count returns 1, 2, …, n.
func count(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// Dense builds report every part they complete, from one goroutine at a
// time whatever the number of workers, done rising to the total, and build
// the same matrix, bit for bit, as without a Progress. The totals are
// counted by hand on a batch of two chunks (300 samples): the Kronecker
// assembly of the MLP 4-6-5-3 writes, per chunk, one product per neuron
// of layer l for each block (l, m ≤ l) — 6 + (6+5) + (6+5+3) = 31, and 5
// for block 1 alone; a Gram matrix of its 83 parameters is one slab of two
// 64-column products per pass; the matrix-free route one column of the 26
// parameters of a network outside the pattern per chunk. Below 1,000 parts
// every part is reported.
func TestDenseProgress(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	f := newFixture(t, []int{4, 6, 5, 3}, []string{"tanh", "sigmoid", "identity"}, nn.SoftmaxCrossEntropy{}, 300, 47)
	g := fixtureOf(t, genericNet(t, 3, 4, 2), nn.SoftmaxCrossEntropy{}, 300, 48)
	require.Equal(t, 83, len(f.theta))
	require.Equal(t, 26, len(g.theta))
	for _, c := range []struct {
		name  string
		f     fixture
		kind  Kind
		block int // −1: Dense
		total int
	}{
		{"mlp/hessian", f, Hessian, -1, 2 * 31},
		{"mlp/ggn", f, GGN, -1, 2 * 31},
		{"mlp/fisher", f, Fisher, -1, 2 * 31},
		{"mlp/ggn block 1", f, GGN, 1, 2 * 5},
		{"mlp/empirical_fisher", f, EmpiricalFisher, -1, 2 * 2},
		{"mlp/gradient_covariance", f, GradientCovariance, -1, 2 * 2},
		{"mlp/mc_fisher", f, MCFisher, -1, 2 * 2 * 2},
		{"generic/ggn", g, GGN, -1, 2 * 26},
		{"generic/hessian block 0", g, Hessian, 0, 2 * 16},
	} {
		for _, w := range []int{1, 3} {
			var log progressLog
			opt := &Options{Samples: 2, Seed: 9, Workers: w}
			build := func(o *Options) *mat.SymDense {
				if c.block >= 0 {
					m, err := c.f.m.Block(c.kind, c.block, c.f.theta, c.f.b, o)
					require.NoError(t, err)
					return m
				}
				return c.f.dense(t, c.kind, o)
			}
			want := build(opt)
			withProgress := *opt
			withProgress.Progress = log.report
			got := build(&withProgress)
			assert.Equal(t, upperBits(want), upperBits(got), "%s, %d workers: the same matrix", c.name, w)
			assert.Equal(t, c.total, log.check(t), "%s, %d workers", c.name, w)
			assert.Equal(t, count(c.total), log.done, "%s, %d workers: every part", c.name, w)
		}
	}
}

// A build of more than 1,000 parts reports at each thousandth and at the
// end; DenseTo and DenseSum report as Dense does; a Kronecker assembly
// that overflows and is built again from matrix-free products raises the
// total by theirs, done carrying on, and still ends at the total (here
// with an error: the GGN of one linear layer on an input of 1e160
// overflows on both routes).
func TestDenseProgressLong(t *testing.T) {
	f := newFixture(t, []int{64, 24, 24, 10}, []string{"tanh", "tanh", "identity"}, nn.MSE{}, 4*chunk, 49) // 4 chunks of 316 products
	var log progressLog
	want := f.dense(t, GGN, nil)
	dst := mat.NewSymDense(len(f.theta), nil)
	require.NoError(t, f.m.DenseTo(dst, GGN, f.theta, f.b, &Options{Progress: log.report}))
	assert.Equal(t, upperBits(want), upperBits(dst))
	total := log.check(t)
	assert.Greater(t, total, 1000)
	assert.LessOrEqual(t, len(log.done), 1001)
	for i := 1; i < len(log.done)-1; i++ {
		assert.Greater(t, log.done[i]*1000/total, log.done[i-1]*1000/total, "one report per thousandth")
	}

	log = progressLog{}
	_, err := f.m.DenseSum(EmpiricalFisher, f.theta, f.b, &Options{Progress: log.report})
	require.NoError(t, err)
	log.check(t)

	net, err := nn.NewMLP([]int{2, 2}, []string{"identity"})
	require.NoError(t, err)
	h := fixtureOf(t, net, nn.MSE{}, 300, 50)
	h.b.X.Set(5, 0, 1e160)
	log = progressLog{}
	_, err = h.m.Dense(GGN, h.theta, h.b, &Options{Progress: log.report})
	require.ErrorIs(t, err, ErrNonFinite)
	kron, free := 2*2, 2*6 // one product per neuron per chunk; one column per parameter per chunk
	assert.Equal(t, kron+free, log.check(t))
	assert.Equal(t, count(kron+free), log.done)
	assert.Equal(t, kron, log.total[0])
}

// Diagonal reports its layers (the Kronecker route), its passes over the
// per-sample gradients, or its columns (matrix-free), and gives the same
// diagonal as without a Progress.
func TestDiagonalProgress(t *testing.T) {
	f := newFixture(t, []int{4, 6, 5, 3}, []string{"tanh", "sigmoid", "identity"}, nn.SoftmaxCrossEntropy{}, 300, 47)
	g := fixtureOf(t, genericNet(t, 3, 4, 2), nn.SoftmaxCrossEntropy{}, 300, 48)
	for _, c := range []struct {
		name  string
		f     fixture
		kind  Kind
		total int
	}{
		{"mlp/hessian", f, Hessian, 3},
		{"mlp/empirical_fisher", f, EmpiricalFisher, 2},
		{"mlp/mc_fisher", f, MCFisher, 2 * 3},
		{"generic/ggn", g, GGN, 26},
	} {
		opt := &Options{Samples: 3, Seed: 4}
		want, err := c.f.m.Diagonal(c.kind, c.f.theta, c.f.b, opt)
		require.NoError(t, err)
		var log progressLog
		opt.Progress = log.report
		got, err := c.f.m.Diagonal(c.kind, c.f.theta, c.f.b, opt)
		require.NoError(t, err)
		assert.Equal(t, want, got, c.name)
		assert.Equal(t, c.total, log.check(t), c.name)
		assert.Equal(t, count(c.total), log.done, c.name)
	}
}
