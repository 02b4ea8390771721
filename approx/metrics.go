package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/symeig"
)

// DenseMetricLimit is the largest order for which the spectral metrics
// (spectral-norm error, top eigenvalues) materialise the matrices and use
// a dense symmetric eigensolver, which is exact. Larger operators use
// Lanczos with full reorthogonalisation, which estimates the extreme
// eigenvalues from inside.
var DenseMetricLimit = 1024

// LanczosSteps is the number of Lanczos steps of the spectral metrics
// above DenseMetricLimit, at least 2k+40 for the top k eigenvalues.
var LanczosSteps = 100

// lanczosRand is the fixed source of Lanczos start vectors, so that the
// metrics are reproducible.
func lanczosRand(n int) *rand.Rand { return rand.New(rand.NewPCG(uint64(n), 0x6c616e637a6f73)) }

// Comparison holds the error metrics of an approximation M̃ of an exact
// matrix M.
type Comparison struct {
	N      int     // order of the matrices
	Lambda float64 // damping of the solves
	Floats int     // the approximation's Floats, −1 when it does not say

	RelFrobenius float64 // ‖M̃−M‖_F/‖M‖_F
	RelSpectral  float64 // ‖M̃−M‖₂/‖M‖₂

	// x = (M+λI)⁻¹g and x̃ = (M̃+λI)⁻¹g: SolveRelError = ‖x̃−x‖/‖x‖,
	// SolveCosine = cos∠(x̃, x). Both are NaN when a solve failed, and
	// SolveErr says why.
	SolveRelError float64
	SolveCosine   float64
	SolveErr      error

	ExactTop  []float64 // the k largest eigenvalues of M, descending
	ApproxTop []float64 // the k largest eigenvalues of M̃, descending

	// DenseSpectral is true when the spectral metrics come from a dense
	// eigensolver, false when from Lanczos.
	DenseSpectral bool
}

// Compare measures a against exact: Frobenius and spectral relative
// errors, the damped solve of g compared with the exact one, and the top k
// eigenvalues of both. The Frobenius error uses products with blocks of
// unit vectors (no n×n matrix); the spectral metrics are exact up to
// DenseMetricLimit and Lanczos estimates above. The exact damped solve uses
// exact's SolveDampedTo when it has one, else a dense Cholesky
// factorisation (n² floats). It returns an error for mismatched sizes,
// a non-finite g, a bad λ or k, or a zero exact matrix.
func Compare(exact curvature.Operator, a Approximation, g []float64, lambda float64, k int) (*Comparison, error) {
	n := exact.Dim()
	if a.Dim() != n || len(g) != n {
		return nil, fmt.Errorf("approx: compare: exact order %d, approximation %d, vector %d", n, a.Dim(), len(g))
	}
	if k < 0 || k > n {
		return nil, fmt.Errorf("approx: compare: k = %d must be in 0..%d", k, n)
	}
	if err := checkLambda(lambda); err != nil {
		return nil, err
	}
	if err := checkFiniteVec("g", g); err != nil {
		return nil, err
	}
	c := &Comparison{N: n, Lambda: lambda, Floats: floatsOf(a)}
	var err error
	if c.RelFrobenius, err = RelFrobeniusError(exact, a); err != nil {
		return nil, err
	}
	c.DenseSpectral = n <= DenseMetricLimit
	if c.RelSpectral, err = RelSpectralError(exact, a); err != nil {
		return nil, err
	}
	c.SolveRelError, c.SolveCosine, c.SolveErr = SolveError(exact, a, g, lambda)
	if k > 0 {
		if c.ExactTop, err = TopEigenvalues(exact, k); err != nil {
			return nil, err
		}
		if c.ApproxTop, err = TopEigenvalues(a, k); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// frobBlock is the number of unit vectors multiplied at once.
const frobBlock = 32

// RelFrobeniusError returns ‖M̃−M‖_F/‖M‖_F from the products of both
// operators with blocks of unit vectors: n products each, O(n·32) memory.
// It returns an error when M is zero or a product is not finite.
func RelFrobeniusError(exact, approx curvature.Operator) (float64, error) {
	n := exact.Dim()
	if approx.Dim() != n {
		panic(fmt.Sprintf("approx: comparing operators of dimensions %d and %d", n, approx.Dim()))
	}
	e := mat.NewDense(n, min(frobBlock, n), nil)
	me := mat.NewDense(n, min(frobBlock, n), nil)
	ae := mat.NewDense(n, min(frobBlock, n), nil)
	var num, den float64
	for j0 := 0; j0 < n; j0 += frobBlock {
		j1 := min(j0+frobBlock, n)
		w := j1 - j0
		ev := e.Slice(0, n, 0, w).(*mat.Dense)
		ev.Zero()
		for j := j0; j < j1; j++ {
			ev.Set(j, j-j0, 1)
		}
		mv := me.Slice(0, n, 0, w).(*mat.Dense)
		av := ae.Slice(0, n, 0, w).(*mat.Dense)
		curvature.MulMatTo(mv, exact, ev)
		curvature.MulMatTo(av, approx, ev)
		for i := 0; i < n; i++ {
			mr, ar := mv.RawRowView(i), av.RawRowView(i)
			for j := range mr {
				d := ar[j] - mr[j]
				num += d * d
				den += mr[j] * mr[j]
			}
		}
	}
	if math.IsNaN(num) || math.IsInf(num, 0) || math.IsNaN(den) || math.IsInf(den, 0) {
		return math.NaN(), fmt.Errorf("approx: Frobenius error: non-finite products")
	}
	if den == 0 {
		return math.NaN(), fmt.Errorf("approx: relative error against a zero matrix")
	}
	return math.Sqrt(num / den), nil
}

// spectralNorm returns max |eigenvalue| of op: dense up to
// DenseMetricLimit, Lanczos above.
func spectralNorm(op curvature.Operator) (float64, error) {
	vals, err := spectrum(op, LanczosSteps)
	if err != nil {
		return math.NaN(), err
	}
	return math.Max(math.Abs(vals[0]), math.Abs(vals[len(vals)-1])), nil
}

// spectrum returns eigenvalues of op in ascending order: all of them when
// dense, the Ritz values of steps Lanczos steps otherwise.
func spectrum(op curvature.Operator, steps int) ([]float64, error) {
	n := op.Dim()
	if n <= DenseMetricLimit {
		m, err := curvature.Materialize(op, 0)
		if err != nil {
			return nil, err
		}
		if err := checkFiniteSym("materialized operator", m); err != nil {
			return nil, err
		}
		var es symeig.EigenSym
		if !es.Factorize(m, false) {
			return nil, fmt.Errorf("approx: dense eigendecomposition failed")
		}
		return es.Values(nil), nil
	}
	return lanczosRitz(op, steps, lanczosRand(n))
}

// RelSpectralError returns ‖M̃−M‖₂/‖M‖₂, the largest absolute eigenvalue
// of the difference over that of M.
func RelSpectralError(exact, approx curvature.Operator) (float64, error) {
	num, err := spectralNorm(newDiffOp(approx, exact))
	if err != nil {
		return math.NaN(), err
	}
	den, err := spectralNorm(exact)
	if err != nil {
		return math.NaN(), err
	}
	if den == 0 {
		return math.NaN(), fmt.Errorf("approx: relative error against a zero matrix")
	}
	return num / den, nil
}

// TopEigenvalues returns the k largest eigenvalues of op in descending
// order: exact up to DenseMetricLimit, Lanczos Ritz values (with at least
// 2k+40 steps) above.
func TopEigenvalues(op curvature.Operator, k int) ([]float64, error) {
	n := op.Dim()
	if k < 0 || k > n {
		return nil, fmt.Errorf("approx: top %d eigenvalues of an operator of order %d", k, n)
	}
	vals, err := spectrum(op, max(LanczosSteps, 2*k+40))
	if err != nil {
		return nil, err
	}
	k = min(k, len(vals))
	top := slices.Clone(vals[len(vals)-k:])
	slices.Reverse(top)
	return top, nil
}

// damper is anything with a damped solve: every Approximation.
type damper interface {
	SolveDampedTo(dst, v []float64, lambda float64) error
}

// SolveDamping returns a λ for comparing damped solves against M:
// 10⁻³‖M‖₂, plus −λ_min(M) when M has negative eigenvalues (a Hessian
// away from a minimum), so that M + λI is positive definite and its
// condition number stays near 1000. It is 0 for a zero matrix.
func SolveDamping(M curvature.Operator) (float64, error) {
	vals, err := spectrum(M, max(LanczosSteps, 42))
	if err != nil {
		return math.NaN(), err
	}
	hi, lo := vals[len(vals)-1], vals[0]
	return 1e-3*math.Max(math.Abs(hi), math.Abs(lo)) + math.Max(0, -lo), nil
}

// SolveError returns the relative error ‖x̃−x‖/‖x‖ and the cosine between
// x̃ = (M̃+λI)⁻¹g and x = (M+λI)⁻¹g. The exact solve uses exact's
// SolveDampedTo when it has one, else a dense Cholesky factorisation. A
// failed solve (not positive definite) gives NaNs and its error.
func SolveError(exact curvature.Operator, a Approximation, g []float64, lambda float64) (rel, cos float64, err error) {
	n := exact.Dim()
	x := make([]float64, n)
	xt := make([]float64, n)
	if d, ok := exact.(damper); ok {
		err = d.SolveDampedTo(x, g, lambda)
	} else {
		var sm *SymMatrix
		if s, ok := exact.(mat.Symmetric); ok {
			sm, err = NewSymMatrix(s, 0)
		} else {
			var m *mat.SymDense
			if m, err = curvature.Materialize(exact, 0); err == nil {
				sm, err = NewSymMatrix(m, 0)
			}
		}
		if err == nil {
			err = sm.SolveDampedTo(x, g, lambda)
		}
	}
	if err != nil {
		return math.NaN(), math.NaN(), fmt.Errorf("approx: exact damped solve: %w", err)
	}
	if err = a.SolveDampedTo(xt, g, lambda); err != nil {
		return math.NaN(), math.NaN(), fmt.Errorf("approx: approximate damped solve: %w", err)
	}
	nx, nxt := floats.Norm(x, 2), floats.Norm(xt, 2)
	if nx == 0 {
		return math.NaN(), math.NaN(), fmt.Errorf("approx: the exact solution is zero")
	}
	rel = floats.Distance(xt, x, 2) / nx
	if nxt == 0 {
		return rel, math.NaN(), fmt.Errorf("approx: the approximate solution is zero")
	}
	cos = floats.Dot(x, xt) / (nx * nxt)
	return rel, cos, nil
}

// Metric names of Records.
const (
	MetricRelFrobenius = "rel_frobenius"
	MetricRelSpectral  = "rel_spectral"
	MetricSolveRelErr  = "solve_rel_error"
	MetricSolveCosine  = "solve_cosine"
	MetricFloats       = "floats"
	MetricLambda       = "lambda"
	// The i-th largest eigenvalues (from 1) are "exact_eig_i" and
	// "approx_eig_i".
)

// Records returns the comparison as tidy CSV rows for one step, matrix and
// approximation name.
func (c *Comparison) Records(step int, matrix, approximation string) []Record {
	r := func(metric string, v float64) Record {
		return Record{Step: step, Matrix: matrix, Approximation: approximation, Metric: metric, Value: v}
	}
	recs := []Record{
		r(MetricLambda, c.Lambda),
		r(MetricFloats, float64(c.Floats)),
		r(MetricRelFrobenius, c.RelFrobenius),
		r(MetricRelSpectral, c.RelSpectral),
		r(MetricSolveRelErr, c.SolveRelError),
		r(MetricSolveCosine, c.SolveCosine),
	}
	for i, v := range c.ExactTop {
		recs = append(recs, r("exact_eig_"+strconv.Itoa(i+1), v))
	}
	for i, v := range c.ApproxTop {
		recs = append(recs, r("approx_eig_"+strconv.Itoa(i+1), v))
	}
	return recs
}
