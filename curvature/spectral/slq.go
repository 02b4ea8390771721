package spectral

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/curvkit/curvkit/curvature"
)

// SLQ estimates the spectral density of a symmetric operator by
// stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; Ghorbani,
// Krishnan & Xiao 2019; PyHessian). The density φ(t) = (1/n) Σ_i δ(t − λ_i)
// satisfies ∫f dφ = tr(f(M))/n = E[vᵀf(M)v] for a random unit v with
// E[vvᵀ] = I/n. For each of Probes Rademacher vectors v/‖v‖, Steps
// Lanczos steps (with full reorthogonalisation) give T = SΘSᵀ, and the
// Gauss quadrature vᵀf(M)v ≈ Σ_k τ_k² f(θ_k), τ_k = S_1k, which is exact
// for polynomials of degree < 2·Steps. Averaging over probes gives nodes
// θ_k and weights τ_k²/Probes that sum to 1; broadening each node by a
// Gaussian of width σ gives a smooth density that integrates to 1.
type SLQ struct {
	// Steps is the number of Lanczos steps per probe. If it is 0, it
	// defaults to min(n, 80). A probe whose Krylov space becomes
	// invariant stops early; its quadrature is then exact.
	Steps int
	// Probes is the number of random vectors. If it is 0, it defaults
	// to 10.
	Probes int
	// Sigma is the width of the Gaussian broadening. If it is 0, it
	// defaults to 1% of the node range (of max|θ| if the range is 0, and
	// 1 if every node is 0).
	Sigma float64
	// Points is the number of grid points of Density.X and Y, on
	// [min θ − 6σ, max θ + 6σ]. If it is 0, it defaults to 1000; it must
	// be at least 2.
	Points int
	// Rand draws the probes. If it is nil, a generator seeded with Seed is
	// used.
	Rand *rand.Rand
	Seed uint64
	// Budget caps the memory, in float64 values (see Floats): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
	// Progress, if not nil, hears of every Lanczos step: done of
	// Probes·Steps.
	Progress curvature.Progress
}

// Density is a spectral density estimate: a weighted set of nodes and its
// Gaussian broadening sampled on a grid.
type Density struct {
	// Nodes are the Ritz values of all probes, ascending, and Weights
	// their quadrature weights τ²/Probes, which sum to 1.
	Nodes, Weights []float64
	// Sigma is the broadening width.
	Sigma float64
	// X is the grid and Y the broadened density on it.
	X, Y []float64
	// Products counts operator products.
	Products int
}

func (s *SLQ) settings(n int) (steps, probes, points int, err error) {
	steps, probes, points = cmp.Or(s.Steps, min(n, 80)), cmp.Or(s.Probes, 10), cmp.Or(s.Points, 1000)
	switch {
	case steps < 1:
		return 0, 0, 0, badSetting("SLQ.Steps", s.Steps, "must be positive")
	case probes < 1:
		return 0, 0, 0, badSetting("SLQ.Probes", s.Probes, "must be positive")
	case points < 2:
		return 0, 0, 0, badSetting("SLQ.Points", s.Points, "must be at least 2")
	case !(s.Sigma >= 0) || math.IsInf(s.Sigma, 1):
		return 0, 0, 0, badSetting("SLQ.Sigma", s.Sigma, "must be positive and finite, or 0 for the default")
	}
	return min(steps, n), probes, points, nil
}

// Floats returns the float64 values Density allocates for an operator of
// dimension n: the Krylov basis (Steps × n), the Steps² eigenvectors of
// T, the nodes and weights of every probe and the grid. Invalid settings
// give 0.
func (s *SLQ) Floats(n int) int {
	steps, probes, points, err := s.settings(n)
	if err != nil {
		return 0
	}
	return krylovFloats(n, steps) + ritzFloats(steps) + n + 2*steps*probes + 2*points
}

// Density estimates the spectral density of op, which must be symmetric.
func (s *SLQ) Density(op curvature.Operator) (*Density, error) {
	n, err := dim("SLQ", op)
	if err != nil {
		return nil, err
	}
	steps, probes, points, err := s.settings(n)
	if err != nil {
		return nil, err
	}
	if err := curvature.CheckFloats("slq", s.Floats(n), s.Budget); err != nil {
		return nil, err
	}
	rnd := source(s.Rand, s.Seed)
	v := make([]float64, n)
	d := &Density{
		Nodes:   make([]float64, 0, steps*probes),
		Weights: make([]float64, 0, steps*probes),
	}
	kr := newKrylov(n, steps)
	kr.progress, kr.total = s.Progress, probes*steps
	defer kr.finish()
	for p := 0; p < probes; p++ {
		kr.vecs, kr.steps, kr.scale = 0, 0, 0
		kr.done = p * steps // a probe that broke down early skips its rest
		rademacher(v, rnd)
		kr.push(v)
		for kr.steps < steps {
			broke, _, err := kr.step(op)
			if err != nil {
				return nil, err
			}
			if broke {
				break
			}
		}
		vals, z, ok := kr.ritz()
		if !ok {
			return nil, fmt.Errorf("spectral: eigendecomposition of the Lanczos tridiagonal failed")
		}
		for c, theta := range vals {
			t := z[c] // first component of eigenvector c
			d.Nodes = append(d.Nodes, theta)
			d.Weights = append(d.Weights, t*t/float64(probes))
		}
	}
	d.Products = kr.products
	sort.Sort(byNode{d.Nodes, d.Weights})
	lo, hi := d.Nodes[0], d.Nodes[len(d.Nodes)-1]
	// The first of these that is not 0: the setting, a hundredth of the
	// spectrum's width, of its largest magnitude, 1.
	d.Sigma = cmp.Or(s.Sigma, 0.01*(hi-lo), 0.01*math.Max(math.Abs(lo), math.Abs(hi)), 1)
	d.X = make([]float64, points)
	d.Y = make([]float64, points)
	a, b := lo-6*d.Sigma, hi+6*d.Sigma
	for i := range d.X {
		d.X[i] = a + (b-a)*float64(i)/float64(points-1)
		d.Y[i] = d.At(d.X[i])
	}
	return d, nil
}

// byNode sorts nodes and their weights together.
type byNode struct{ x, w []float64 }

func (b byNode) Len() int           { return len(b.x) }
func (b byNode) Less(i, j int) bool { return b.x[i] < b.x[j] }
func (b byNode) Swap(i, j int) {
	b.x[i], b.x[j] = b.x[j], b.x[i]
	b.w[i], b.w[j] = b.w[j], b.w[i]
}

// At returns the broadened density Σ_k w_k N(x; θ_k, σ²).
func (d *Density) At(x float64) float64 {
	c := 1 / (d.Sigma * math.Sqrt(2*math.Pi))
	var y float64
	for k, t := range d.Nodes {
		u := (x - t) / d.Sigma
		if u > 40 || u < -40 {
			continue
		}
		y += d.Weights[k] * math.Exp(-0.5*u*u)
	}
	return c * y
}

// CDF returns the broadened distribution function Σ_k w_k Φ((x − θ_k)/σ),
// the estimate of the fraction of eigenvalues ≤ x.
func (d *Density) CDF(x float64) float64 {
	var f float64
	for k, t := range d.Nodes {
		f += d.Weights[k] * 0.5 * math.Erfc(-(x-t)/(d.Sigma*math.Sqrt2))
	}
	return f
}
