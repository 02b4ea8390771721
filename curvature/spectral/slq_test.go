package spectral

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// twoBulks is a 400×400 matrix whose spectrum has 300 eigenvalues spread
// over [0, 1] and 100 over [3, 4], and those eigenvalues.
func twoBulks() (*mat.SymDense, []float64) {
	rnd := rand.New(rand.NewPCG(11, 1))
	vals := make([]float64, 400)
	for i := range vals {
		if i < 300 {
			vals[i] = float64(i) / 299
		} else {
			vals[i] = 3 + float64(i-300)/99
		}
	}
	return symFromEig(vals, rnd), vals
}

// TestSLQDensityAgainstEigenSym checks the density integrates to 1 and
// matches the dense spectrum: the broadened distribution functions agree
// to 0.03 everywhere on the grid, and the Wasserstein-1 distance between
// the quadrature measure and the eigenvalue measure is below 2% of the
// spectral range.
func TestSLQDensityAgainstEigenSym(t *testing.T) {
	a, vals := twoBulks()
	ref := denseEig(a)
	require.InDelta(t, vals[399], ref[399], 1e-10)
	op := &counting{op: curvature.NewDense(a)}
	d, err := (&SLQ{Steps: 40, Probes: 20, Seed: 1}).Density(op)
	require.NoError(t, err)
	assert.Equal(t, 40*20, d.Products)
	assert.Equal(t, op.n, d.Products)
	assert.InDelta(t, 1, floats.Sum(d.Weights), 1e-12)
	assert.InDelta(t, 0.04, d.Sigma, 1e-3, "default σ: 1% of the node range")

	// Trapezoidal integral of the broadened density over the grid.
	integral := 0.0
	for i := 1; i < len(d.X); i++ {
		integral += 0.5 * (d.Y[i] + d.Y[i-1]) * (d.X[i] - d.X[i-1])
	}
	assert.InDelta(t, 1, integral, 1e-6)

	sup := 0.0
	for _, x := range d.X {
		f := 0.0
		for _, l := range ref {
			f += 0.5 * math.Erfc(-(x-l)/(d.Sigma*math.Sqrt2)) / float64(len(ref))
		}
		sup = math.Max(sup, math.Abs(f-d.CDF(x)))
	}
	t.Logf("sup |F_SLQ − F_dense| = %.4f, σ = %.3g", sup, d.Sigma)
	assert.Less(t, sup, 0.03)

	w1 := wasserstein1(d.Nodes, d.Weights, ref)
	t.Logf("W1 = %.4f", w1)
	assert.Less(t, w1, 0.02*(ref[399]-ref[0]))
}

// wasserstein1 returns ∫|F − G| for the measure Σ w_k δ(θ_k) and the
// uniform measure on vals.
func wasserstein1(nodes, weights, vals []float64) float64 {
	type atom struct{ x, w float64 }
	var atoms []atom
	for k, x := range nodes {
		atoms = append(atoms, atom{x, weights[k]})
	}
	for _, x := range vals {
		atoms = append(atoms, atom{x, -1 / float64(len(vals))})
	}
	sort.Slice(atoms, func(i, j int) bool { return atoms[i].x < atoms[j].x })
	w, diff := 0.0, 0.0
	for i := 0; i+1 < len(atoms); i++ {
		diff += atoms[i].w
		w += math.Abs(diff) * (atoms[i+1].x - atoms[i].x)
	}
	return w
}

// TestSLQMoments: Gauss quadrature with at least one node is exact for
// degree 1 and with two for degree 3, so with the same seed (the same
// Rademacher probes) n·Σ w_k θ_k is Hutchinson's trace estimate of A and
// n·Σ w_k θ_k² that of A².
func TestSLQMoments(t *testing.T) {
	a := randSym(60, rand.New(rand.NewPCG(12, 1)))
	var a2 mat.SymDense
	a2.SymOuterK(1, a) // A·Aᵀ = A²
	d, err := (&SLQ{Steps: 5, Probes: 7, Seed: 3}).Density(curvature.NewDense(a))
	require.NoError(t, err)
	m1, m2 := 0.0, 0.0
	for k, x := range d.Nodes {
		m1 += d.Weights[k] * x
		m2 += d.Weights[k] * x * x
	}
	h1, err := (&Hutchinson{Products: 7, Seed: 3}).Trace(curvature.NewDense(a))
	require.NoError(t, err)
	h2, err := (&Hutchinson{Products: 7, Seed: 3}).Trace(curvature.NewDense(&a2))
	require.NoError(t, err)
	assert.InDelta(t, h1.Value, 60*m1, 1e-10*math.Abs(h1.Value)+1e-10)
	assert.InDelta(t, h2.Value, 60*m2, 1e-10*h2.Value)
}

// TestSLQInvariant: on 2I every probe's Krylov space is invariant after
// one step, so every node is 2 (to rounding, vᵀ(2I)v for a unit v).
func TestSLQInvariant(t *testing.T) {
	a := mat.NewSymDense(30, nil)
	for i := 0; i < 30; i++ {
		a.SetSym(i, i, 2)
	}
	d, err := (&SLQ{Probes: 4, Points: 11, Seed: 1}).Density(curvature.NewDense(a))
	require.NoError(t, err)
	assert.Equal(t, 4, d.Products)
	assert.InDeltaSlice(t, []float64{2, 2, 2, 2}, d.Nodes, 1e-15)
	assert.InDelta(t, 0.02, d.Sigma, 1e-15)
	assert.Len(t, d.X, 11)
	assert.InDelta(t, 2, d.X[5], 1e-12, "grid centred on the node")
	assert.InDelta(t, 1/(0.02*math.Sqrt(2*math.Pi)), d.Y[5], 1e-9)
	assert.InDelta(t, 0.5, d.CDF(2), 1e-12)
}

func TestSLQBadInputAndBudget(t *testing.T) {
	op := curvature.NewDense(randSym(10, rand.New(rand.NewPCG(13, 1))))
	for _, s := range []*SLQ{{Steps: -1}, {Probes: -2}, {Points: 1}, {Sigma: math.NaN()}, {Sigma: -1}, {Sigma: math.Inf(1)}} {
		_, err := s.Density(op)
		assert.Error(t, err, "%+v", *s)
		assert.Zero(t, s.Floats(10))
	}
	_, err := (&SLQ{}).Density(nil)
	assert.Error(t, err)
	s := &SLQ{Steps: 5, Probes: 3, Points: 50}
	need := s.Floats(10)
	// Basis, w and α, β; T's eigenvectors and workspace; v; nodes and
	// weights; the grid.
	assert.Equal(t, 5*10+10+2*5+(25+4*5)+10+2*15+2*50, need)
	s.Budget = need - 1
	_, err = s.Density(op)
	var be *curvature.BudgetError
	assert.ErrorAs(t, err, &be)
}

// TestSLQProgress: one report per Lanczos step of every probe, a probe
// that breaks down early skipping the rest of its steps.
func TestSLQProgress(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 6))
	// A diagonal matrix with two distinct eigenvalues: every probe's Krylov
	// space is invariant after two steps of the ten asked for.
	two := mat.NewSymDense(30, nil)
	for i := range 30 {
		two.SetSym(i, i, float64(1+i%2))
	}
	for _, c := range []struct {
		a     mat.Symmetric
		steps int // per probe
	}{{randSym(40, rnd), 10}, {two, 2}} {
		var log progressLog
		s := SLQ{Steps: 10, Probes: 4, Progress: log.report}
		d, err := s.Density(curvature.NewDense(c.a))
		require.NoError(t, err)
		require.Equal(t, 4*c.steps, d.Products)
		// Reports rise by one within a probe and jump to the next probe's
		// start after a breakdown; the last is 40 of 40.
		want := []int{}
		for p := range 4 {
			for j := 1; j <= c.steps; j++ {
				want = append(want, 10*p+j)
			}
		}
		if c.steps < 10 {
			want = append(want, 40)
		}
		assert.Equal(t, want, log.done)
		for _, tot := range log.total {
			assert.Equal(t, 40, tot)
		}
	}
}
