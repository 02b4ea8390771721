package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/randmat"
)

func TestEKFACWithKFACEigenvaluesIsKFAC(t *testing.T) {
	k := randKFAC(t, 21, LayerShapes(3, 4, 2), nil)
	e, err := newEKFAC(k, kronEigenvalues(t, k), nil)
	require.NoError(t, err)
	assert.Less(t, relDiffMat(e.Dense(), k.Dense()), 1e-13)
	rnd := newRand(22)
	v := randmat.Vec(rnd, k.Dim())
	got, want := make([]float64, k.Dim()), make([]float64, k.Dim())
	e.MulVecTo(got, v)
	k.MulVecTo(want, v)
	assert.Less(t, relDiff(got, want), 1e-13)
	require.NoError(t, e.SolveDampedTo(got, v, 0.2))
	require.NoError(t, k.SolveDampedTo(want, v, 0.2))
	assert.Less(t, relDiff(got, want), 1e-12)
	assert.InDelta(t, k.Trace(), e.Trace(), 1e-12*k.Trace())
	lk, _ := k.LogDet(0)
	le, err := e.LogDet(0)
	require.NoError(t, err)
	assert.InDelta(t, lk, le, 1e-10)
	assert.Equal(t, (4*4+4*4+4*4)+(2*2+5*5+2*5), e.Floats()) // layers {G 4, A 4} and {G 2, A 5}
	assert.Same(t, k, e.KFAC())
}

func TestEKFACOf(t *testing.T) {
	shapes := LayerShapes(3, 3, 2)
	k := randKFAC(t, 23, shapes, nil)
	rnd := newRand(24)
	n := k.Dim()
	// M = K-FAC + a PSD perturbation, so K-FAC's basis is near but not
	// exactly M's.
	m := k.Dense()
	noise := randSPD(rnd, n, 0)
	m.AddSym(m, noise)
	e, err := EKFACOf(k, m)
	require.NoError(t, err)

	// Oracle: s_k = q_kᵀ M q_k with Q = kron(Q_G, Q_A) formed densely.
	off := 0
	for l := 0; l < k.NumBlocks(); l++ {
		eg, _ := k.Kron(l).basis()
		var q mat.Dense
		q.Kronecker(eg.qg, eg.qa)
		p := k.Kron(l).Dim()
		blk := m.SliceSym(off, off+p)
		b, _ := e.Block(l)
		s := b.(*EigenKron).Scaling()
		for c := 0; c < p; c++ {
			col := mat.Col(nil, c, &q)
			want := mat.Inner(mat.NewVecDense(p, col), blk, mat.NewVecDense(p, col))
			assert.InDelta(t, want, s[c], 1e-12*math.Abs(want)+1e-14, "layer %d scale %d", l, c)
		}
		off += p
	}
	// Best diagonal in the basis: no farther from M than K-FAC.
	var dk, de mat.Dense
	dk.Sub(k.Dense(), m)
	de.Sub(e.Dense(), m)
	assert.Less(t, mat.Norm(&de, 2), mat.Norm(&dk, 2))
	// Nor than any other diagonal in that basis, e.g. K-FAC's scaled.
	for _, c := range []float64{0.5, 0.9, 1.1, 2} {
		s := kronEigenvalues(t, k)
		for _, sl := range s {
			for i := range sl {
				sl[i] *= c
			}
		}
		other, err := newEKFAC(k, s, nil)
		require.NoError(t, err)
		var do mat.Dense
		do.Sub(other.Dense(), m)
		assert.Less(t, mat.Norm(&de, 2), mat.Norm(&do, 2))
	}
	_, err = EKFACOf(k, mat.NewSymDense(n+1, nil))
	assert.Error(t, err)
}

// eigenScales against the definition: each sample's gradient
// Σ_r g_r ā_rᵀ projected by the dense kron(Q_G, Q_A), squared and summed,
// with one position (the rank-one fast path) and with three.
func TestEigenScales(t *testing.T) {
	k := randKFAC(t, 27, LayerShapes(4, 3), nil)
	e, err := k.Kron(0).basis()
	require.NoError(t, err)
	p, q := 3, 5
	var Q mat.Dense
	Q.Kronecker(e.qg, e.qa)
	rnd := newRand(28)
	const n, w = 4, 0.3
	for _, r := range []int{1, 3} {
		abar := randDense(rnd, n*r, q)
		grads := []*mat.Dense{randDense(rnd, n*r, p), randDense(rnd, n*r, p)}
		got := eigenScales(e, abar, grads, r, w)
		want := make([]float64, p*q)
		for _, g := range grads {
			for i := 0; i < n; i++ {
				var gi mat.Dense
				gi.Mul(g.Slice(i*r, (i+1)*r, 0, p).T(), abar.Slice(i*r, (i+1)*r, 0, q))
				proj := mat.NewVecDense(p*q, nil)
				proj.MulVec(Q.T(), mat.NewVecDense(p*q, gi.RawMatrix().Data))
				for c := range want {
					want[c] += w * proj.AtVec(c) * proj.AtVec(c)
				}
			}
		}
		assert.Less(t, relDiff(got, want), 1e-13, "%d positions", r)
	}
}

func TestEKFACSolveAgainstDense(t *testing.T) {
	k := randKFAC(t, 29, LayerShapes(3, 2, 3), nil)
	rnd := newRand(30)
	s := make([][]float64, k.NumBlocks())
	for l := range s {
		s[l] = make([]float64, k.Kron(l).Dim())
		for i := range s[l] {
			s[l][i] = rnd.Float64() + 0.01
		}
	}
	e, err := newEKFAC(k, s, nil)
	require.NoError(t, err)
	dense := e.Dense()
	v := randmat.Vec(rnd, k.Dim())
	got := make([]float64, k.Dim())
	for _, lambda := range []float64{0, 0.05} {
		require.NoError(t, e.SolveDampedTo(got, v, lambda))
		assert.Less(t, relDiff(got, denseSolve(t, dense, v, lambda)), 1e-10)
		ld, err := e.LogDet(lambda)
		require.NoError(t, err)
		assert.InDelta(t, denseLogDet(t, dense, lambda), ld, 1e-9)
	}
	s[0][0] = -0.5
	e, err = newEKFAC(k, s, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, e.SolveDampedTo(got, v, 0.1), curvature.ErrNotPositiveDefinite)
	assert.NoError(t, e.SolveDampedTo(got, v, 0.6))
	s[1][0] = math.NaN()
	_, err = newEKFAC(k, s, nil)
	assert.Error(t, err)
}
