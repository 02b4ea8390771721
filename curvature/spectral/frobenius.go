package spectral

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// Frobenius estimates the squared Frobenius norm of an operator from
// Products random probes z with E[zzᵀ] = I:
//
//	‖M‖_F² = tr(MᵀM) = E‖Mz‖²,    ‖M‖_F² ≈ (1/m) Σ_s ‖Mz_s‖²,
//
// Hutchinson's estimator applied to M², one product with M per probe. For
// a symmetric M, Rademacher probes (the default) give the variance
// 2(‖M²‖_F² − Σ_i (M²)_ii²)/m and Gaussian probes 2‖M²‖_F²/m; the
// estimate is returned with the standard error of the samples. Its square
// root estimates ‖M‖_F, biased low by Jensen's inequality by about
// Var/(8‖M‖_F³).
type Frobenius struct {
	// Products is the number of probes, one product each. If it is 0,
	// it defaults to 30.
	Products int
	// Gaussian draws N(0, 1) probes instead of Rademacher ones.
	Gaussian bool
	// Rand draws the probes. If it is nil, a generator seeded with Seed is
	// used.
	Rand *rand.Rand
	Seed uint64
	// Budget caps the memory, in float64 values (see Floats): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
}

// Floats returns the float64 values Squared allocates for an operator of
// dimension n: the probe and its product.
func (f *Frobenius) Floats(n int) int { return 2 * n }

// Squared returns the estimate of ‖op‖_F² with its standard error.
func (f *Frobenius) Squared(op curvature.Operator) (Estimate, error) {
	n, err := dim("Frobenius norm", op)
	if err != nil {
		return Estimate{}, err
	}
	m, err := products("Frobenius.Products", f.Products, 30, 1)
	if err != nil {
		return Estimate{}, err
	}
	if err := curvature.CheckFloats("frobenius norm", f.Floats(n), f.Budget); err != nil {
		return Estimate{}, err
	}
	return probeMean(op, m, f.Gaussian, source(f.Rand, f.Seed), func(_, mz []float64) float64 { return floats.Dot(mz, mz) })
}
