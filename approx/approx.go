package approx

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Approximation is a structured approximation M̃ of a symmetric curvature
// matrix. Every method works from the structure: nothing n×n is formed
// except by Dense.
type Approximation interface {
	// Dim and MulVecTo (dst = M̃·v) make an Approximation a
	// curvature.Operator, so a solver written for the exact matrix runs on
	// the approximation.
	curvature.Operator

	// SolveDampedTo stores (M̃ + λI)⁻¹·v in dst without forming anything
	// dense. It returns an error wrapping curvature.ErrNotPositiveDefinite when
	// M̃ + λI is not positive definite, and an error when λ is negative,
	// NaN or infinite. dst and v have length Dim and must not alias.
	SolveDampedTo(dst, v []float64, lambda float64) error

	// Dense returns M̃ as a new dense matrix. It allocates n² floats and
	// is meant for comparisons at small sizes.
	Dense() *mat.SymDense

	// Trace returns tr M̃.
	Trace() float64

	// LogDet returns log det M̃, or an error wrapping
	// curvature.ErrNotPositiveDefinite when M̃ is not positive definite.
	LogDet() (float64, error)

	// LogDetDamped returns log det of the matrix SolveDampedTo inverts
	// for this λ (M̃ + λI unless documented otherwise, as for K-FAC's
	// factored damping).
	LogDetDamped(lambda float64) (float64, error)

	// Floats returns the number of float64 values that define M̃, the
	// figure to compare with n² for the dense matrix. Factorisations
	// cached for fast solves are not counted; they at most double it.
	Floats() int
}

func notPD(format string, args ...any) error {
	return fmt.Errorf("approx: %w: %s", curvature.ErrNotPositiveDefinite, fmt.Sprintf(format, args...))
}

// DampedInverse is the operator v ↦ (M̃ + λI)⁻¹·v of an approximation,
// applied through the approximation's structure.
type DampedInverse struct {
	a      Approximation
	lambda float64
}

var _ curvature.Operator = (*DampedInverse)(nil)

// Inverse returns the operator (M̃ + λI)⁻¹. It performs one solve up front,
// which caches the factorisations and checks that M̃ + λI is positive
// definite, so later products cannot fail unless M̃ changes (as TONGA's
// does when it sees more gradients).
func Inverse(a Approximation, lambda float64) (*DampedInverse, error) {
	n := a.Dim()
	if err := a.SolveDampedTo(make([]float64, n), make([]float64, n), lambda); err != nil {
		return nil, err
	}
	return &DampedInverse{a: a, lambda: lambda}, nil
}

// Dim returns n.
func (d *DampedInverse) Dim() int { return d.a.Dim() }

// MulVecTo stores (M̃ + λI)⁻¹·v in dst. It panics if the solve fails, which
// Inverse has ruled out for an approximation that has not changed since.
func (d *DampedInverse) MulVecTo(dst, v []float64) {
	if err := d.a.SolveDampedTo(dst, v, d.lambda); err != nil {
		panic("approx: damped inverse: " + err.Error())
	}
}

// LogDet returns log det (M̃ + λI)⁻¹ = −log det(M̃ + λI).
func (d *DampedInverse) LogDet() (float64, error) {
	ld, err := d.a.LogDetDamped(d.lambda)
	return -ld, err
}

// checkLambda validates a damping strength.
func checkLambda(lambda float64) error {
	if math.IsNaN(lambda) || math.IsInf(lambda, 0) || lambda < 0 {
		return fmt.Errorf("approx: damping λ = %v must be finite and ≥ 0", lambda)
	}
	return nil
}

// checkVecs panics when dst or v do not have length n.
func checkVecs(dst, v []float64, n int) {
	if len(dst) != n || len(v) != n {
		panic(fmt.Sprintf("approx: vector length mismatch: dst %d, v %d, want %d", len(dst), len(v), n))
	}
}

// checkFiniteVec returns an error when v holds NaN or Inf.
func checkFiniteVec(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("approx: %s[%d] = %v is not finite", what, i, x)
		}
	}
	return nil
}

// checkFiniteSym returns an error when m is empty or holds NaN or Inf.
func checkFiniteSym(what string, m mat.Symmetric) error {
	n := m.SymmetricDim()
	if n == 0 {
		return fmt.Errorf("approx: %s is empty", what)
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if x := m.At(i, j); math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("approx: %s[%d,%d] = %v is not finite", what, i, j, x)
			}
		}
	}
	return nil
}

// copySym returns a dense copy of m.
func copySym(m mat.Symmetric) *mat.SymDense {
	s := mat.NewSymDense(m.SymmetricDim(), nil)
	s.CopySym(m)
	return s
}

// cholSolveVec solves with a factorisation into dst, treating gonum's
// near-singularity warning as success: the factorisation exists and the
// solution is the best the arithmetic gives.
func cholSolveVec(c *mat.Cholesky, dst, v []float64) {
	n := len(v)
	err := c.SolveVecTo(mat.NewVecDense(n, dst), mat.NewVecDense(n, v))
	if err != nil && !isCondition(err) {
		panic("approx: " + err.Error())
	}
}

// isCondition reports whether err is gonum's near-singularity warning,
// which comes with a usable solution.
func isCondition(err error) bool {
	var cond mat.Condition
	return errors.As(err, &cond)
}

// shiftedSym returns m + s·I as a new matrix.
func shiftedSym(m *mat.SymDense, s float64) *mat.SymDense {
	n := m.SymmetricDim()
	d := copySym(m)
	for i := 0; i < n; i++ {
		d.SetSym(i, i, d.At(i, i)+s)
	}
	return d
}

// symTrace returns tr m.
func symTrace(m mat.Symmetric) float64 {
	var t float64
	for i := 0; i < m.SymmetricDim(); i++ {
		t += m.At(i, i)
	}
	return t
}
