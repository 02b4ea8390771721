package approx

import (
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/randmat"
)

func TestLowRankAgainstDense(t *testing.T) {
	rnd := newRand(41)
	const n, m = 7, 3
	u := randDense(rnd, n, m)
	cases := []struct {
		name    string
		d       []float64
		lambdas []float64
	}{
		{"no diagonal", nil, []float64{0.1, 1}},
		{"uniform", []float64{.5, .5, .5, .5, .5, .5, .5}, []float64{0, 0.2}},
		{"diagonal", []float64{.1, .2, .3, .4, .5, .6, .7}, []float64{0, 0.2, 0.2}},
		{"zeros, dense fallback", []float64{0, 1, 1, 1, 1, 1, 1}, []float64{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lr, err := NewLowRank(u, c.d, 0)
			require.NoError(t, err)
			dense := mat.NewSymDense(n, nil)
			dense.SymOuterK(1, u)
			for i, x := range c.d {
				dense.SetSym(i, i, dense.At(i, i)+x)
			}
			assert.Less(t, relDiffMat(lr.Dense(), dense), 1e-15)
			checkDense(t, lr, dense, randmat.Vec(rnd, n), c.lambdas, 1e-14, 1e-11, 1e-10)
			assert.InDelta(t, mat.Trace(dense), lr.Trace(), 1e-12)
			assert.Equal(t, n*m+n, lr.Floats())
		})
	}
	// Rank 3 < 7 without a diagonal is singular.
	lr, _ := NewLowRank(u, nil, 0)
	assert.ErrorIs(t, lr.SolveDampedTo(make([]float64, n), make([]float64, n), 0), curvature.ErrNotPositiveDefinite)
	_, err := NewLowRank(u, []float64{1}, 0)
	assert.Error(t, err)
	_, err = NewLowRank(u, nil, 20)
	assert.Error(t, err)
}

// discountedCov returns the discounted covariance of the rows of gs from
// its definition: weights w_i = γ^(N−1−i), W = Σw_i, μ = Σ w_i g_i/W,
// C = Σ w_i (g_i−μ)(g_i−μ)ᵀ/W (no −μ when uncentered).
func discountedCov(gs [][]float64, gamma float64, centered bool) (*mat.SymDense, []float64) {
	n := len(gs[0])
	N := len(gs)
	var W float64
	mu := make([]float64, n)
	for i, g := range gs {
		w := math.Pow(gamma, float64(N-1-i))
		W += w
		for j, x := range g {
			mu[j] += w * x
		}
	}
	for j := range mu {
		mu[j] /= W
	}
	c := mat.NewSymDense(n, nil)
	for i, g := range gs {
		w := math.Pow(gamma, float64(N-1-i))
		d := make([]float64, n)
		for j := range d {
			d[j] = g[j]
			if centered {
				d[j] -= mu[j]
			}
		}
		c.SymRankOne(c, w/W, mat.NewVecDense(n, d))
	}
	return c, mu
}

func maskBlocks(m *mat.SymDense, index [][]int) *mat.SymDense {
	n := m.SymmetricDim()
	block := make([]int, n)
	for b, idx := range index {
		for _, i := range idx {
			block[i] = b
		}
	}
	out := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if block[i] == block[j] {
				out.SetSym(i, j, m.At(i, j))
			}
		}
	}
	return out
}

// TestTONGAUntruncated: while no compression has happened TONGA's estimate
// is the exact discounted covariance.
func TestTONGAUntruncated(t *testing.T) {
	cases := []struct {
		name     string
		gamma    float64
		centered bool
		index    [][]int
	}{
		{"mean, centered", 1, true, Ranges(3, 4, 2)},
		{"discounted, centered", 0.9, true, [][]int{{8, 0, 4}, {1, 2, 3, 5}, {6, 7}}},
		{"discounted, uncentered", 0.8, false, Ranges(9)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rnd := newRand(42)
			tg, err := NewTONGA(c.index, &TONGASettings{Rank: 8, Refresh: 10, Discount: c.gamma, Uncentered: !c.centered})
			require.NoError(t, err)
			var gs [][]float64
			for i := 0; i < 7; i++ {
				g := randmat.Vec(rnd, 9)
				for j := range g {
					g[j] += float64(j) // a non-zero mean
				}
				gs = append(gs, g)
				require.NoError(t, tg.Add(g))
				want, mu := discountedCov(gs, c.gamma, c.centered)
				assert.Less(t, relDiffMat(tg.Dense(), maskBlocks(want, c.index)), 1e-13, "after %d", i+1)
				assert.Less(t, relDiff(tg.Mean(), mu), 1e-14)
			}
			assert.Equal(t, 7, tg.Count())
		})
	}
}

// truncTop returns the top-k eigen-truncation of s.
func truncTop(t *testing.T, s *mat.SymDense, k int) *mat.SymDense {
	var es mat.EigenSym
	require.True(t, es.Factorize(s, true))
	vals := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	n := s.SymmetricDim()
	out := mat.NewSymDense(n, nil)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	for _, i := range order[:min(k, n)] {
		out.SymRankOne(out, vals[i], v.ColView(i))
	}
	return out
}

// TestTONGATruncated replays the recursion densely, S ← γS + ccᵀ per
// block with the top-k eigen-truncation of S whenever k+b columns have
// accumulated, and compares it with TONGA's Gram-matrix version.
func TestTONGATruncated(t *testing.T) {
	rnd := newRand(43)
	index := Ranges(5, 6)
	const k, b, gamma = 2, 3, 0.95
	for _, res := range []Residual{NoResidual, IsotropicResidual, DiagonalResidual} {
		tg, err := NewTONGA(index, &TONGASettings{Rank: k, Refresh: b, Discount: gamma, Residual: res})
		require.NoError(t, err)
		var S []*mat.SymDense
		for _, idx := range index {
			S = append(S, mat.NewSymDense(len(idx), nil))
		}
		var W float64
		mu := make([]float64, 11)
		cols := 0
		var gs [][]float64
		for it := 0; it < 17; it++ {
			g := randmat.Vec(rnd, 11)
			gs = append(gs, g)
			require.NoError(t, tg.Add(g))
			// The oracle's centered column, then its truncations.
			coef := math.Sqrt(gamma * W / (gamma*W + 1))
			col := make([]float64, 11)
			for i := range col {
				col[i] = coef * (g[i] - mu[i])
				mu[i] = (gamma*W*mu[i] + g[i]) / (gamma*W + 1)
			}
			W = gamma*W + 1
			if coef != 0 {
				cols++
			}
			for bl, idx := range index {
				var cb []float64
				for _, i := range idx {
					cb = append(cb, col[i])
				}
				S[bl].ScaleSym(gamma, S[bl])
				S[bl].SymRankOne(S[bl], 1, mat.NewVecDense(len(cb), cb))
				if cols == k+b {
					S[bl] = truncTop(t, S[bl], k)
				}
			}
			if cols == k+b {
				cols = k
			}
		}
		want := mat.NewSymDense(11, nil)
		for bl, idx := range index {
			for i, gi := range idx {
				for j, gj := range idx {
					want.SetSym(gi, gj, S[bl].At(i, j)/W)
				}
			}
		}
		got := tg.Dense()
		exact, _ := discountedCov(gs, gamma, true)
		switch res {
		case NoResidual:
			assert.Less(t, relDiffMat(got, want), 1e-10)
		case DiagonalResidual:
			// Off the diagonal the low rank; on it the exact variances.
			for i := 0; i < 11; i++ {
				assert.InDelta(t, exact.At(i, i), got.At(i, i), 1e-12, "diag %d", i)
				for j := 0; j < 11; j++ {
					if i != j {
						assert.InDelta(t, want.At(i, j), got.At(i, j), 1e-10)
					}
				}
			}
		case IsotropicResidual:
			// Per block the trace is the exact one.
			for _, idx := range index {
				var tw, tg float64
				for _, i := range idx {
					tw += exact.At(i, i)
					tg += got.At(i, i)
				}
				assert.InDelta(t, tw, tg, 1e-12)
			}
		}
		assert.Equal(t, 11*cols+11, tg.Floats(), "n·columns + n")

		// The direction through the Woodbury core equals the dense solve.
		v := randmat.Vec(rnd, 11)
		x := make([]float64, 11)
		for _, lambda := range []float64{1e-3, 0.5} {
			require.NoError(t, tg.SolveDampedTo(x, v, lambda))
			assert.Less(t, relDiff(x, denseSolve(t, got, v, lambda)), 1e-9)
			require.NoError(t, tg.NaturalGradientTo(x, lambda))
			assert.Less(t, relDiff(x, denseSolve(t, got, tg.Mean(), lambda)), 1e-9)
			ld, err := tg.LogDet(lambda)
			require.NoError(t, err)
			assert.InDelta(t, denseLogDet(t, got, lambda), ld, 1e-9)
		}
	}
}

func TestTONGAErrors(t *testing.T) {
	for _, s := range []TONGASettings{{Rank: -1}, {Discount: 1.5}, {Discount: math.NaN()}, {Residual: 7}} {
		_, err := NewTONGA(Ranges(3), &s)
		assert.Error(t, err, "%+v", s)
	}
	_, err := NewTONGA([][]int{{0, 2}}, nil)
	assert.Error(t, err)
	_, err = NewTONGA(Ranges(100), &TONGASettings{Budget: 100})
	assert.Error(t, err)

	tg, err := NewTONGA(Ranges(2, 2), nil)
	require.NoError(t, err)
	x := make([]float64, 4)
	// Empty: the estimate is 0, so only λ > 0 solves.
	assert.NoError(t, tg.SolveDampedTo(x, []float64{1, 2, 3, 4}, 1))
	assert.Equal(t, []float64{1, 2, 3, 4}, x)
	assert.ErrorIs(t, tg.SolveDampedTo(x, []float64{1, 2, 3, 4}, 0), curvature.ErrNotPositiveDefinite)
	require.NoError(t, tg.Add([]float64{1, 2, 3, 4}))
	before := tg.Dense()
	assert.Error(t, tg.Add([]float64{1, math.Inf(1), 3, 4}))
	assert.Equal(t, before, tg.Dense())
	assert.Equal(t, 1, tg.Count())
}

// TestLowRankTinyDamping: with λ far below c‖U‖² the textbook Woodbury
// form cancels catastrophically; the solve must stay backward stable
// (small residual relative to ‖M̃+λI‖‖x‖).
func TestLowRankTinyDamping(t *testing.T) {
	rnd := newRand(44)
	const n, m = 9, 3
	u := randDense(rnd, n, m)
	u.Scale(1e4, u)
	for _, d := range [][]float64{nil, {1e-14, 1e-12, 1e-10, 1, 1, 1, 1, 1, 1}} {
		lr, err := NewLowRank(u, d, 0)
		require.NoError(t, err)
		dense := lr.Dense()
		v := randmat.Vec(rnd, n)
		x := make([]float64, n)
		for _, lambda := range []float64{1e-14, 1e-9} {
			require.NoError(t, lr.SolveDampedTo(x, v, lambda))
			s := shiftedSym(dense, lambda)
			r := denseMulVec(s, x)
			for i := range r {
				r[i] -= v[i]
			}
			bound := 1e-12 * (mat.Norm(s, 2)*mat.Norm(mat.NewVecDense(n, x), 2) + mat.Norm(mat.NewVecDense(n, v), 2))
			assert.Less(t, mat.Norm(mat.NewVecDense(n, r), 2), bound, "λ=%v d=%v", lambda, d)
		}
	}
}
