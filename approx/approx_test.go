package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature"
)

// bare is an approximation with the two required methods only.
type bare struct{ m *SymMatrix }

func (b bare) Dim() int                  { return b.m.Dim() }
func (b bare) MulVecTo(dst, v []float64) { b.m.MulVecTo(dst, v) }
func (b bare) SolveDampedTo(dst, v []float64, lambda float64) error {
	return b.m.SolveDampedTo(dst, v, lambda)
}

// Trace, LogDet and Dense fall back on products and a factorisation for
// an approximation that has only the two required methods, and agree with
// the methods of one that has them; a block diagonal of bare blocks gets
// them the same way.
func TestOptionalMethodsFallBack(t *testing.T) {
	rnd := newRand(81)
	M := randSPD(rnd, 37, 0.2) // more than one block of unit vectors
	s, err := NewSymMatrix(M, 0)
	require.NoError(t, err)
	b := bare{s}
	assert.InDelta(t, s.Trace(), Trace(b), 1e-12*s.Trace())
	for _, lambda := range []float64{0, 0.3} {
		want, err := s.LogDet(lambda)
		require.NoError(t, err)
		got, err := LogDet(b, lambda)
		require.NoError(t, err)
		assert.InDelta(t, want, got, 1e-10*math.Abs(want), "λ = %v", lambda)
	}
	assert.Less(t, relDiffMat(Dense(b), M), 1e-15)
	assert.Equal(t, -1, floatsOf(b))

	bd, err := NewBlockDiagonal([]Approximation{b, bare{s}}, Ranges(37, 37))
	require.NoError(t, err)
	assert.InDelta(t, 2*s.Trace(), bd.Trace(), 1e-12*s.Trace())
	ld, err := bd.LogDet(0.1)
	require.NoError(t, err)
	want, _ := s.LogDet(0.1)
	assert.InDelta(t, 2*want, ld, 1e-10*math.Abs(want))
	assert.Equal(t, -1, bd.Floats())

	// An indefinite matrix: the fallback's factorisation refuses it.
	neg, err := NewSymMatrix(shiftedSym(M, -10), 0)
	require.NoError(t, err)
	_, err = LogDet(bare{neg}, 0)
	assert.ErrorIs(t, err, curvature.ErrNotPositiveDefinite)
	_, err = LogDet(b, -1)
	assert.Error(t, err)
}
