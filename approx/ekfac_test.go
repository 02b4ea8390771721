package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// randKFAC returns a K-FAC with random SPD factors of the given shapes.
func randKFAC(t testing.TB, seed uint64, shapes []KronShape, s *KFACSettings) *KFAC {
	rnd := newRand(seed)
	f := make([]KronFactors, len(shapes))
	for l, sh := range shapes {
		f[l] = KronFactors{G: randSPD(rnd, sh.G, 0.1), A: randSPD(rnd, sh.A, 0.1)}
	}
	k, err := NewKFAC(f, s)
	require.NoError(t, err)
	return k
}

// kronEigenvalues returns λ_G,a·λ_A,b layer after layer, row-major.
func kronEigenvalues(t testing.TB, k *KFAC) []float64 {
	var s []float64
	for l := 0; l < k.NumLayers(); l++ {
		g, a := k.Layer(l).Factors()
		var eg, ea mat.EigenSym
		require.True(t, eg.Factorize(g, false))
		require.True(t, ea.Factorize(a, false))
		for _, x := range eg.Values(nil) {
			for _, y := range ea.Values(nil) {
				s = append(s, x*y)
			}
		}
	}
	return s
}

func TestEKFACWithKFACEigenvaluesIsKFAC(t *testing.T) {
	k := randKFAC(t, 21, LayerShapes(3, 4, 2), nil)
	e, err := NewEKFAC(k, kronEigenvalues(t, k), 0)
	require.NoError(t, err)
	assert.Less(t, relDiffMat(e.Dense(), k.Dense()), 1e-13)
	rnd := newRand(22)
	v := randVec(rnd, k.Dim())
	got, want := make([]float64, k.Dim()), make([]float64, k.Dim())
	e.MulVecTo(got, v)
	k.MulVecTo(want, v)
	assert.Less(t, relDiff(got, want), 1e-13)
	require.NoError(t, e.SolveDampedTo(got, v, 0.2))
	require.NoError(t, k.SolveDampedTo(want, v, 0.2))
	assert.Less(t, relDiff(got, want), 1e-12)
	assert.InDelta(t, k.Trace(), e.Trace(), 1e-12*k.Trace())
	lk, _ := k.LogDet()
	le, err := e.LogDet()
	require.NoError(t, err)
	assert.InDelta(t, lk, le, 1e-10)
	assert.Equal(t, (4*4+4*4+4*4)+(2*2+5*5+2*5), e.Floats()) // layers {G 4, A 4} and {G 2, A 5}
}

func TestEKFACFromMatrix(t *testing.T) {
	shapes := LayerShapes(3, 3, 2)
	k := randKFAC(t, 23, shapes, nil)
	rnd := newRand(24)
	n := k.Dim()
	// M = K-FAC + a PSD perturbation, so K-FAC's basis is near but not
	// exactly M's.
	m := k.Dense()
	noise := randSPD(rnd, n, 0)
	m.AddSym(m, noise)
	e, err := EKFACFromMatrix(k, m, 0)
	require.NoError(t, err)

	// Oracle: s_k = q_kᵀ M q_k with Q = kron(Q_G, Q_A) formed densely.
	off := 0
	for l := 0; l < k.NumLayers(); l++ {
		eg, _ := k.Layer(l).basis()
		var q mat.Dense
		q.Kronecker(eg.qg, eg.qa)
		p := k.Layer(l).Dim()
		blk := m.SliceSym(off, off+p)
		s := e.Layer(l).Scaling()
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
		for i := range s {
			s[i] *= c
		}
		other, err := NewEKFAC(k, s, 0)
		require.NoError(t, err)
		var do mat.Dense
		do.Sub(other.Dense(), m)
		assert.Less(t, mat.Norm(&de, 2), mat.Norm(&do, 2))
	}
}

func TestEKFACFromGrads(t *testing.T) {
	shapes := LayerShapes(2, 3, 2)
	k := randKFAC(t, 25, shapes, &KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver})
	rnd := newRand(26)
	const N = 9
	n := k.Dim()
	grads := randDense(rnd, N, n)
	e, err := EKFACFromGrads(k, grads, 0)
	require.NoError(t, err)
	// Oracle: the empirical Fisher (1/N) Gᵀ G and its optimal diagonal,
	// since q_kᵀ EF q_k = (1/N) Σ (q_kᵀ g_i)².
	ef := mat.NewSymDense(n, nil)
	ef.SymRankK(ef, 1/float64(N), grads.T())
	fromM, err := EKFACFromMatrix(k, ef, 0)
	require.NoError(t, err)
	for l := 0; l < k.NumLayers(); l++ {
		assert.Less(t, relDiff(e.Layer(l).Scaling(), fromM.Layer(l).Scaling()), 1e-12)
	}

	// Merging two halves equals one pass.
	a1, _ := NewEKFACScaling(k)
	a2, _ := NewEKFACScaling(k)
	for i := 0; i < N; i++ {
		acc := a1
		if i%2 == 1 {
			acc = a2
		}
		require.NoError(t, acc.AddGrad(mat.Row(nil, i, grads)))
	}
	a1.Merge(a2)
	assert.Equal(t, N, a1.Count(0))
	s, err := a1.Scaling()
	require.NoError(t, err)
	sWant, _ := NewEKFACScaling(k)
	for i := 0; i < N; i++ {
		_ = sWant.AddGrad(mat.Row(nil, i, grads))
	}
	s2, _ := sWant.Scaling()
	assert.Less(t, relDiff(s, s2), 1e-14)

	empty, _ := NewEKFACScaling(k)
	_, err = empty.Scaling()
	assert.Error(t, err)
	bad := make([]float64, n)
	bad[3] = math.NaN()
	assert.Error(t, empty.AddGrad(bad))
}

// TestEKFACLayerOuter checks the rank-one projection against the full one:
// a linear layer's per-sample gradient is δ āᵀ.
func TestEKFACLayerOuter(t *testing.T) {
	shapes := LayerShapes(4, 3, 2)
	k := randKFAC(t, 27, shapes, nil)
	rnd := newRand(28)
	outer, _ := NewEKFACScaling(k)
	full, _ := NewEKFACScaling(k)
	for i := 0; i < 5; i++ {
		g := make([]float64, 0, k.Dim())
		for l, sh := range shapes {
			delta, abar := randVec(rnd, sh.G), randVec(rnd, sh.A)
			require.NoError(t, outer.AddLayerOuter(l, delta, abar))
			for _, d := range delta {
				for _, a := range abar {
					g = append(g, d*a)
				}
			}
		}
		require.NoError(t, full.AddGrad(g))
	}
	so, _ := outer.Scaling()
	sf, _ := full.Scaling()
	assert.Less(t, relDiff(so, sf), 1e-13)
}

func TestEKFACSolveAgainstDense(t *testing.T) {
	k := randKFAC(t, 29, LayerShapes(3, 2, 3), nil)
	rnd := newRand(30)
	s := make([]float64, k.Dim())
	for i := range s {
		s[i] = rnd.Float64() + 0.01
	}
	e, err := NewEKFAC(k, s, 0)
	require.NoError(t, err)
	dense := e.Dense()
	v := randVec(rnd, k.Dim())
	got := make([]float64, k.Dim())
	for _, lambda := range []float64{0, 0.05} {
		require.NoError(t, e.SolveDampedTo(got, v, lambda))
		assert.Less(t, relDiff(got, denseSolve(t, dense, v, lambda)), 1e-10)
		ld, err := e.LogDetDamped(lambda)
		require.NoError(t, err)
		assert.InDelta(t, denseLogDet(t, dense, lambda), ld, 1e-9)
	}
	s[0] = -0.5
	e, _ = NewEKFAC(k, s, 0)
	assert.ErrorIs(t, e.SolveDampedTo(got, v, 0.1), curvature.ErrNotPositiveDefinite)
	assert.NoError(t, e.SolveDampedTo(got, v, 0.6))
	_, err = NewEKFAC(k, s[:3], 0)
	assert.Error(t, err)
}
