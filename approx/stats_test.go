package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// upper returns the upper triangle of m, row by row.
func upper(m blas64.Symmetric) []float64 {
	var u []float64
	for i := 0; i < m.N; i++ {
		u = append(u, m.Data[i*m.Stride+i:i*m.Stride+m.N]...)
	}
	return u
}

// Update is the running average ε·F(batch 1) + (1−ε)·F(batch 2) of every
// statistic — the Kronecker factors and the dense block of a LayerNorm —
// with exact factors (three output vectors, so each G and the dense block
// take three rank-N updates, the first of which scales the old values), to
// rounding. F(batch) is a K-FAC of that batch alone.
func TestKFACUpdateEveryBlock(t *testing.T) {
	net, loss, theta, batches := stateNet(t)
	tape := nn.NewTape(net, loss)
	alone := func(b curvature.Batch) *KFAC {
		k, err := NewKFAC(net, nil)
		require.NoError(t, err)
		tape.Forward(theta, b.X)
		require.NoError(t, k.Update(tape, b.Y, 0))
		return k
	}
	k1, k2 := alone(batches[0]), alone(batches[1])
	run, err := NewKFAC(net, nil)
	require.NoError(t, err)
	tape.Forward(theta, batches[0].X)
	require.NoError(t, run.Update(tape, batches[0].Y, 0))
	tape.Forward(theta, batches[1].X)
	const eps = 0.7
	require.NoError(t, run.Update(tape, batches[1].Y, eps))
	require.Len(t, run.dest, 3)
	require.Positive(t, run.dest[1].m.N, "the LayerNorm's block is dense")
	for i, d := range run.dest {
		for _, s := range []struct {
			name            string
			got, one, other blas64.Symmetric
		}{{"G", d.g, k1.dest[i].g, k2.dest[i].g}, {"A", d.a, k1.dest[i].a, k2.dest[i].a}, {"dense", d.m, k1.dest[i].m, k2.dest[i].m}} {
			got, one, other := upper(s.got), upper(s.one), upper(s.other)
			for j := range got {
				want := eps*one[j] + (1-eps)*other[j]
				assert.InDelta(t, want, got[j], 1e-14*(1+math.Abs(want)), "block %d %s[%d]", i, s.name, j)
			}
		}
	}
}

// finiteSum settles a running sum of outer products from its diagonal,
// and scans the whole triangle when the diagonal is beyond its bound or
// negative.
func TestFiniteSum(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	sym := func(a, b, c float64) blas64.Symmetric {
		return blas64.Symmetric{Uplo: blas.Upper, N: 2, Stride: 2, Data: []float64{a, b, 0, c}}
	}
	for _, c := range []struct {
		name string
		m    blas64.Symmetric
		coef float64
		want bool
	}{
		{"finite", sym(2, 1, 3), 1, true},
		{"NaN on the diagonal", sym(nan, 1, 3), 1, false},
		{"+Inf on the diagonal", sym(inf, 1, 3), 1, false},
		{"beyond the bound: scanned", sym(math.MaxFloat64/2, inf, 1), 1, false},
		{"beyond the bound for a small coefficient", sym(1e300, inf, 1), 1e-10, false},
		{"beyond the bound, finite", sym(math.MaxFloat64/2, 1, 1), 1, true},
		{"negative diagonal: scanned", sym(-1, inf, 1), 1, false},
	} {
		assert.Equal(t, c.want, finiteSum(c.m, c.coef), c.name)
	}
}

// After a failed Update, statistics folded into the old values are checked
// entry by entry: here the failure left +Inf off the diagonal only, which
// the next Update with ε > 0 keeps and must report.
func TestKFACUpdateAfterFailure(t *testing.T) {
	net, loss, theta, batches := stateNet(t)
	tape := nn.NewTape(net, loss)
	k, err := NewKFAC(net, nil)
	require.NoError(t, err)
	tape.Forward(theta, batches[0].X)
	require.NoError(t, k.Update(tape, batches[0].Y, 0))
	a := k.dest[0].a
	a.Data[1] = math.Inf(1) // A[0, 1], as if an Update had failed there
	k.unsure = true
	tape.Forward(theta, batches[1].X)
	err = k.Update(tape, batches[1].Y, 0.5)
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
	assert.ErrorContains(t, err, "A[0, 1] = +Inf")
	// An Update with ε = 0 does not read the old values: good again.
	require.NoError(t, k.Update(tape, batches[1].Y, 0))
	assert.False(t, k.unsure)
	require.NoError(t, k.Update(tape, batches[1].Y, 0.5))
}
