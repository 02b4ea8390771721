package inverse_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/inverse"
	"github.com/curvkit/curvkit/internal/randmat"
)

// kronDense returns (g + sg·I) ⊗ (a + sa·I) as a dense matrix, in the
// project's row-major layout: entry ((o,j),(o',j')) = G[o,o']·A[j,j'].
func kronDense(g, a *mat.SymDense, sg, sa float64) *mat.SymDense {
	p, q := g.SymmetricDim(), a.SymmetricDim()
	k := mat.NewSymDense(p*q, nil)
	for o := 0; o < p; o++ {
		for o2 := o; o2 < p; o2++ {
			gv := g.At(o, o2)
			if o == o2 {
				gv += sg
			}
			for j := 0; j < q; j++ {
				for j2 := 0; j2 < q; j2++ {
					if o == o2 && j2 < j {
						continue
					}
					av := a.At(j, j2)
					if j == j2 {
						av += sa
					}
					k.SetSym(o*q+j, o2*q+j2, gv*av)
				}
			}
		}
	}
	return k
}

// TestDirectKronecker: the damped inverse of a Kronecker block, with exact
// damping (through the factors' eigendecompositions) and with factored
// damping (the π split), against dense Cholesky solves of the matrices
// each is documented to invert.
func TestDirectKronecker(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	const p, q, lambda = 4, 5, 0.3
	g := psd(rnd, spread(p, 1e-2, 3, 1)...)
	a := psd(rnd, spread(q, 1e-1, 2, 1)...)
	v := randmat.Vec(rnd, p*q)
	for _, damping := range []approx.Damping{approx.ExactDamping, approx.FactoredDamping} {
		k, err := approx.NewKron(g, a, &approx.KronSettings{Damping: damping})
		require.NoError(t, err)
		var want []float64
		if damping == approx.ExactDamping {
			want = cholSolve(t, kronDense(g, a, 0, 0), lambda, v)
		} else {
			pi := math.Sqrt((mat.Trace(a) / q) / (mat.Trace(g) / p))
			want = cholSolve(t, kronDense(g, a, math.Sqrt(lambda)/pi, pi*math.Sqrt(lambda)), 0, v)
		}
		d := inverse.Direct{P: k, Damping: lambda}
		require.Equal(t, p*q, d.Dim())
		x := make([]float64, p*q)
		require.NoError(t, d.SolveTo(x, v))
		assert.Less(t, relErr(x, want), 1e-12, "damping %d", damping)
		y := make([]float64, p*q)
		d.MulVecTo(y, v)
		assert.Equal(t, x, y)
	}
}

// TestDirectErrors: a bad damping is refused, an indefinite matrix is
// reported through SolveTo and panicked with through MulVecTo.
func TestDirectErrors(t *testing.T) {
	ind, err := approx.NewSymMatrix(mat.NewSymDense(2, []float64{1, 0, 0, -1}), 0)
	require.NoError(t, err)
	x := make([]float64, 2)
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		assert.Error(t, inverse.Direct{P: ind, Damping: bad}.SolveTo(x, []float64{1, 1}))
	}
	d := inverse.Direct{P: ind, Damping: 0.5}
	assert.ErrorIs(t, d.SolveTo(x, []float64{1, 1}), curvature.ErrNotPositiveDefinite)
	assert.Panics(t, func() { d.MulVecTo(x, []float64{1, 1}) })
	assert.NoError(t, inverse.Direct{P: ind, Damping: 1.5}.SolveTo(x, []float64{1, 1}))
}
