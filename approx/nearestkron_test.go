package approx

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

func frobDist(a, b mat.Matrix) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2)
}

func TestNearestKroneckerRecoversKronecker(t *testing.T) {
	for _, method := range []NearestKronMethod{KronPower, KronSVD} {
		rnd := newRand(31)
		g0, a0 := randSPD(rnd, 3, 0.1), randSPD(rnd, 4, 0.1)
		m := denseKron(g0, a0)
		k, err := NearestKroneckerOf(m, []KronShape{{3, 4}}, &NearestKronSettings{Method: method})
		require.NoError(t, err)
		assert.Less(t, relDiffMat(k.Dense(), m), 1e-13, "method %d", method)
		// The factors are G0 and A0 up to a positive scale.
		g, a := kronAt(k, 0).Factors()
		c := g.At(0, 0) / g0.At(0, 0)
		assert.Greater(t, c, 0.0)
		var gs mat.SymDense
		gs.ScaleSym(1/c, g)
		assert.Less(t, relDiffMat(&gs, g0), 1e-12)
		assert.InDelta(t, mat.Norm(g, 2), mat.Norm(a, 2), 1e-12*mat.Norm(a, 2))
	}
}

// TestNearestKroneckerIsNearest compares the power iteration with the SVD
// of the rearranged block (exact), the closed-form error ‖M‖²−σ², and
// other Kronecker products of the same shape: K-FAC's (partial traces),
// random SPD pairs and perturbations of the optimum, each at its best scale.
func TestNearestKroneckerIsNearest(t *testing.T) {
	shapes := []KronShape{{3, 4}, {2, 3}}
	rnd := newRand(32)
	n := 18
	// A PSD matrix close to block Kronecker structure plus noise.
	m := mat.NewSymDense(n, nil)
	off := 0
	for _, sh := range shapes {
		blk := denseKron(randSPD(rnd, sh.G, 0.1), randSPD(rnd, sh.A, 0.1))
		for i := 0; i < sh.G*sh.A; i++ {
			for j := i; j < sh.G*sh.A; j++ {
				m.SetSym(off+i, off+j, blk.At(i, j))
			}
		}
		off += sh.G * sh.A
	}
	m.AddSym(m, randSPD(rnd, n, 0))

	power, err := NearestKroneckerOf(m, shapes, nil)
	require.NoError(t, err)
	svd, err := NearestKroneckerOf(m, shapes, &NearestKronSettings{Method: KronSVD})
	require.NoError(t, err)
	off = 0
	for l, sh := range shapes {
		p := sh.G * sh.A
		blk := m.SliceSym(off, off+p)
		kp, ks := kronAt(power, l).Dense(), kronAt(svd, l).Dense()
		dp, ds := frobDist(kp, blk), frobDist(ks, blk)
		assert.InDelta(t, ds, dp, 1e-9*ds, "layer %d: power vs SVD", l)
		assert.Less(t, relDiffMat(kp, ks), 1e-6)

		// ‖B − G⊗A‖² = ‖B‖² − σ², σ = ‖G‖‖A‖ at the optimum.
		g, a := kronAt(power, l).Factors()
		sigma := mat.Norm(g, 2) * mat.Norm(a, 2)
		nb := mat.Norm(blk, 2)
		assert.InDelta(t, nb*nb-sigma*sigma, dp*dp, 1e-9*nb*nb)

		// Factors of a PSD block are PSD.
		for _, f := range []*mat.SymDense{g, a} {
			var es mat.EigenSym
			require.True(t, es.Factorize(f, false))
			assert.GreaterOrEqual(t, es.Values(nil)[0], -1e-10*mat.Norm(f, 2))
		}

		// Competitors, each scaled optimally: c* = ⟨B,K⟩/‖K‖².
		best := func(k *mat.SymDense) float64 {
			c := mat.Sum(elemMul(blk, k)) / math.Pow(mat.Norm(k, 2), 2)
			var ck mat.SymDense
			ck.ScaleSym(c, k)
			return frobDist(&ck, blk)
		}
		ga, aa := partialTraces(blk, sh.G, sh.A)
		assert.LessOrEqual(t, dp, best(denseKron(ga, aa))*(1+1e-12), "K-FAC-like partial traces")
		for trial := 0; trial < 5; trial++ {
			assert.LessOrEqual(t, dp, best(denseKron(randSPD(rnd, sh.G, 0.1), randSPD(rnd, sh.A, 0.1))))
			gp := perturbed(rnd, g, 1e-3)
			assert.LessOrEqual(t, dp, best(denseKron(gp, a))*(1+1e-12), "perturbed optimum")
		}
		off += p
	}
}

func elemMul(a, b mat.Matrix) *mat.Dense {
	var d mat.Dense
	d.MulElem(a, b)
	return &d
}

// partialTraces returns Σ_j B[(·,j),(·,j)] (p×p) and Σ_o B[(o,·),(o,·)]
// (q×q), the K-FAC-like factors of a block.
func partialTraces(b mat.Symmetric, p, q int) (*mat.SymDense, *mat.SymDense) {
	g, a := mat.NewSymDense(p, nil), mat.NewSymDense(q, nil)
	for o := 0; o < p; o++ {
		for o2 := o; o2 < p; o2++ {
			var s float64
			for j := 0; j < q; j++ {
				s += b.At(o*q+j, o2*q+j)
			}
			g.SetSym(o, o2, s)
		}
	}
	for j := 0; j < q; j++ {
		for j2 := j; j2 < q; j2++ {
			var s float64
			for o := 0; o < p; o++ {
				s += b.At(o*q+j, o*q+j2)
			}
			a.SetSym(j, j2, s)
		}
	}
	return g, a
}

func perturbed(rnd interface{ NormFloat64() float64 }, m *mat.SymDense, eps float64) *mat.SymDense {
	n := m.SymmetricDim()
	d := mat.NewSymDense(n, nil)
	scale := eps * mat.Norm(m, 2)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			d.SetSym(i, j, m.At(i, j)+scale*rnd.NormFloat64())
		}
	}
	return d
}

func TestNearestKroneckerErrors(t *testing.T) {
	m := randSPD(newRand(33), 6, 0.1)
	_, err := NearestKroneckerOf(m, []KronShape{{2, 2}}, nil)
	assert.Error(t, err, "shapes do not cover the matrix")
	_, err = NearestKroneckerOf(m, []KronShape{{0, 6}}, nil)
	assert.Error(t, err)
	_, err = NearestKroneckerOf(m, nil, nil)
	assert.Error(t, err)
	_, err = NearestKroneckerOf(m, []KronShape{{2, 3}}, &NearestKronSettings{MaxIter: -1})
	assert.Error(t, err)
	m.SetSym(1, 2, math.NaN())
	_, err = NearestKroneckerOf(m, []KronShape{{2, 3}}, nil)
	assert.Error(t, err)
	// A zero block gives zero factors, not a panic.
	k, err := NearestKroneckerOf(mat.NewSymDense(6, nil), []KronShape{{2, 3}}, nil)
	require.NoError(t, err)
	assert.Equal(t, 0.0, k.Trace())
}
