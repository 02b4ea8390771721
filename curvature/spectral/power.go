package spectral

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Power computes the K eigenpairs of largest magnitude by power iteration
// with deflation, the baseline PyHessian uses: each pair starts from a
// seeded random vector and iterates v ← Mv/‖Mv‖, kept orthogonal to the
// pairs already found, until the Rayleigh quotient θ = vᵀMv has
//
//	‖Mv − θv‖ ≤ Tol·max(|θ|, √ε·|θ₁|).
//
// Each iteration costs one product; convergence is linear with ratio
// |λ_{i+1}/λ_i|, so Lanczos needs far fewer products for the same pairs.
// For a positive semidefinite M (a GGN, a Fisher) the largest magnitudes
// are the largest eigenvalues.
type Power struct {
	// K is the number of eigenpairs. If K is 0, it defaults to 1.
	K int
	// Tol is the relative residual tolerance. If Tol is 0, it defaults
	// to 1e-8; it must be in (0, 1).
	Tol float64
	// MaxIter caps the iterations per pair. If it is 0, it defaults to
	// 1000.
	MaxIter int
	// Rand draws the start vectors. If it is nil, a generator seeded with
	// Seed is used.
	Rand *rand.Rand
	Seed uint64
	// Budget caps the memory, in float64 values (see Floats): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
}

func (p *Power) settings(n int) (k, maxIter int, tol float64, err error) {
	k = p.K
	k = cmp.Or(k, 1)
	if k < 0 || k > n {
		return 0, 0, 0, badSetting("Power.K", p.K, fmt.Sprintf("must be in [1, %d], the dimension", n))
	}
	if tol, err = tolerance("Power.Tol", p.Tol, 1e-8); err != nil {
		return 0, 0, 0, err
	}
	maxIter = p.MaxIter
	maxIter = cmp.Or(maxIter, 1000)
	if maxIter < 0 {
		return 0, 0, 0, badSetting("Power.MaxIter", p.MaxIter, "must not be negative")
	}
	return k, maxIter, tol, nil
}

// Floats returns the float64 values Eigen allocates for an operator of
// dimension n: the K vectors (kept, and returned), and three work
// vectors. Invalid settings give 0.
func (p *Power) Floats(n int) int {
	k, _, _, err := p.settings(n)
	if err != nil {
		return 0
	}
	return 2*k*n + 3*n
}

// Eigen computes the K eigenpairs of largest magnitude of op, which must
// be symmetric.
func (p *Power) Eigen(op curvature.Operator) (*Eigenpairs, error) {
	n, err := dim("Power", op)
	if err != nil {
		return nil, err
	}
	k, maxIter, tol, err := p.settings(n)
	if err != nil {
		return nil, err
	}
	if err := curvature.CheckFloats("power iteration", p.Floats(n), p.Budget); err != nil {
		return nil, err
	}
	rnd := source(p.Rand, p.Seed)
	res := &Eigenpairs{Values: make([]float64, k), Vectors: mat.NewDense(n, k, nil), Residuals: make([]float64, k), Converged: k}
	found := make([][]float64, 0, k)
	v, w, r := make([]float64, n), make([]float64, n), make([]float64, n)
	deflate := func(x []float64) {
		for pass := 0; pass < 2; pass++ {
			for _, u := range found {
				floats.AddScaled(x, -floats.Dot(u, x), u)
			}
		}
	}
	top := 0.0
	for i := 0; i < k; i++ {
		gaussian(v, rnd)
		deflate(v)
		if nv := floats.Norm(v, 2); nv > 0 {
			floats.Scale(1/nv, v)
		}
		var theta, rn float64
		converged := false
		for it := 0; it < maxIter; it++ {
			if err := mulVec(w, op, v, &res.Products); err != nil {
				return nil, err
			}
			res.Steps++
			deflate(w) // the product restricted to the complement
			theta = floats.Dot(v, w)
			floats.AddScaledTo(r, w, -theta, v)
			rn = floats.Norm(r, 2)
			if i == 0 {
				top = math.Abs(theta)
			}
			if rn <= tol*math.Max(math.Abs(theta), math.Sqrt(0x1p-52)*top) {
				converged = true
				break
			}
			nw := floats.Norm(w, 2)
			if nw == 0 {
				// v is in the null space of the deflated operator: θ = 0
				// is exact.
				converged = true
				break
			}
			floats.ScaleTo(v, 1/nw, w)
		}
		// The true residual, from a fresh product.
		if err := mulVec(w, op, v, &res.Products); err != nil {
			return nil, err
		}
		floats.AddScaled(w, -theta, v)
		res.Residuals[i] = floats.Norm(w, 2)
		res.Values[i] = theta
		res.Vectors.SetCol(i, v)
		if !converged && res.Converged == k {
			res.Converged = i
		}
		found = append(found, append([]float64(nil), v...))
	}
	if res.Converged < k {
		return res, fmt.Errorf("%w: %d of %d pairs by power iteration", ErrNotConverged, res.Converged, k)
	}
	return res, nil
}
