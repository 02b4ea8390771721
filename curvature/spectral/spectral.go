package spectral

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

var (
	// ErrNotConverged is returned, wrapped and with the result, when an
	// eigensolver stops at its step limit before every wanted pair meets
	// the residual test. The result holds the best pairs found and their
	// true residuals.
	ErrNotConverged = errors.New("spectral: eigenpairs not converged")
)

// Which selects an end of the spectrum.
type Which int

const (
	Largest  Which = iota // the algebraically largest eigenvalues
	Smallest              // the algebraically smallest eigenvalues
)

func (w Which) String() string {
	switch w {
	case Largest:
		return "largest"
	case Smallest:
		return "smallest"
	}
	return fmt.Sprintf("Which(%d)", int(w))
}

// Eigenpairs are approximate eigenpairs (θ_i, v_i) of an operator M with
// their residuals.
type Eigenpairs struct {
	// Values are the Ritz values θ_i, the wanted end first: descending
	// for Largest, ascending for Smallest; by decreasing magnitude for
	// Power.
	Values []float64
	// Vectors holds the unit vectors v_i as columns (Dim × len(Values)).
	Vectors *mat.Dense
	// Residuals are ‖Mv_i − θ_iv_i‖₂, computed by one product each after
	// the solver stopped. For a symmetric M, every θ_i is within
	// Residuals[i] of an eigenvalue of M.
	Residuals []float64
	// Converged counts the pairs, from the first, that meet the solver's
	// residual test.
	Converged int
	// Steps counts Lanczos steps or power iterations.
	Steps int
	// Products counts operator products, residual checks included.
	Products int
}

// Estimate is a stochastic estimate and its standard error.
type Estimate struct {
	Value float64
	// StdErr is the sample standard deviation of the random part of the
	// estimate over the square root of its sample count (NaN with fewer
	// than two samples, 0 when the estimate is exact).
	StdErr float64
	// Products counts operator products.
	Products int
}

// source returns rnd, or a generator seeded with seed.
func source(rnd *rand.Rand, seed uint64) *rand.Rand {
	if rnd != nil {
		return rnd
	}
	return rand.New(rand.NewPCG(seed, 0))
}

// rademacher fills z with independent ±1.
func rademacher(z []float64, rnd *rand.Rand) {
	for i := 0; i < len(z); i += 64 {
		bits := rnd.Uint64()
		for j := i; j < min(i+64, len(z)); j++ {
			z[j] = 1
			if bits&1 == 1 {
				z[j] = -1
			}
			bits >>= 1
		}
	}
}

// probe fills z with a Gaussian or a Rademacher probe.
func probe(z []float64, rnd *rand.Rand, gauss bool) {
	if gauss {
		gaussian(z, rnd)
		return
	}
	rademacher(z, rnd)
}

func gaussian(z []float64, rnd *rand.Rand) {
	for i := range z {
		z[i] = rnd.NormFloat64()
	}
}

// dim validates the operator's dimension.
func dim(what string, op curvature.Operator) (int, error) {
	if op == nil {
		return 0, fmt.Errorf("spectral: %s of a nil operator", what)
	}
	n := op.Dim()
	if n <= 0 {
		return 0, fmt.Errorf("spectral: %s of an operator of dimension %d", what, n)
	}
	return n, nil
}

func finiteVec(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// mulVec stores op·v in dst and checks it is finite.
func mulVec(dst []float64, op curvature.Operator, v []float64, products *int) error {
	op.MulVecTo(dst, v)
	*products++
	if !finiteVec(dst) {
		for i, x := range dst {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("spectral: operator product: %w: entry %d is %v", curvature.ErrNonFinite, i, x)
			}
		}
	}
	return nil
}

func badSetting(setting string, v any, reason string) error {
	return fmt.Errorf("spectral: %s = %v: %s", setting, v, reason)
}

// tolerance validates a tolerance setting, 0 meaning def.
func tolerance(setting string, tol, def float64) (float64, error) {
	if tol == 0 {
		return def, nil
	}
	if !(tol > 0) || math.IsInf(tol, 1) || tol >= 1 {
		return 0, badSetting(setting, tol, "must be in (0, 1)")
	}
	return tol, nil
}
