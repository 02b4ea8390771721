package approx

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Approximation is a structured approximation M̃ of a symmetric curvature
// matrix: a curvature.DampedSolver. Its optional methods Trace() float64,
// LogDet(λ) (float64, error), Dense() *mat.SymDense and Floats() int serve
// Trace, LogDet and Dense; every approximation of this package has them.
type Approximation interface {
	curvature.Operator

	// SolveDampedTo stores (M̃ + λI)⁻¹·v in dst (or the inverse of the
	// damped matrix the approximation documents), returning an error for a
	// bad λ or, wrapping curvature.ErrNotPositiveDefinite, a matrix that is
	// not positive definite. dst and v have length Dim and must not alias.
	SolveDampedTo(dst, v []float64, lambda float64) error
}

var _ curvature.DampedSolver = Approximation(nil)

// Trace returns tr M̃: op's own Trace when it has one, else Σ_i (M̃ e_i)_i
// from products with blocks of unit vectors.
func Trace(op curvature.Operator) float64 {
	if t, ok := op.(interface{ Trace() float64 }); ok {
		return t.Trace()
	}
	var tr float64
	eachColumnBlock(op, func(j0 int, cols *mat.Dense) {
		_, k := cols.Dims()
		for j := 0; j < k; j++ {
			tr += cols.At(j0+j, j)
		}
	})
	return tr
}

// LogDet returns log det of the matrix a's SolveDampedTo inverts for λ
// (M̃ + λI unless a documents otherwise): a's own LogDet when it has one,
// else a Cholesky factorisation of Dense(a) + λI. It returns an error
// wrapping curvature.ErrNotPositiveDefinite when that matrix is not
// positive definite.
func LogDet(a Approximation, lambda float64) (float64, error) {
	if err := checkLambda(lambda); err != nil {
		return math.NaN(), err
	}
	if l, ok := a.(interface {
		LogDet(float64) (float64, error)
	}); ok {
		return l.LogDet(lambda)
	}
	var c mat.Cholesky
	if !c.Factorize(shiftedSym(Dense(a), lambda)) {
		return math.NaN(), notPD("Cholesky of M̃ + %v·I failed", lambda)
	}
	return c.LogDet(), nil
}

// Dense returns op as a new dense symmetric matrix: op's own Dense when it
// has one, else the products with unit vectors, symmetrised
// (curvature.Materialize). It allocates n² floats.
func Dense(op curvature.Operator) *mat.SymDense {
	if d, ok := op.(interface{ Dense() *mat.SymDense }); ok {
		return d.Dense()
	}
	m, _ := curvature.Materialize(op, curvature.Unlimited) // asked for: cannot fail
	return m
}

// floatsOf returns a's Floats, or −1 when it does not say.
func floatsOf(a curvature.Operator) int {
	if f, ok := a.(interface{ Floats() int }); ok {
		return f.Floats()
	}
	return -1
}

// eachColumnBlock calls f with the products of op with blocks of 32 unit
// vectors e_j0, …, in order.
func eachColumnBlock(op curvature.Operator, f func(j0 int, cols *mat.Dense)) {
	n := op.Dim()
	const blk = 32
	for j0 := 0; j0 < n; j0 += blk {
		k := min(blk, n-j0)
		e := mat.NewDense(n, k, nil)
		for j := 0; j < k; j++ {
			e.Set(j0+j, j, 1)
		}
		var out mat.Dense
		curvature.MulMatTo(&out, op, e)
		f(j0, &out)
	}
}

func notPD(format string, args ...any) error {
	return fmt.Errorf("approx: %w: %s", curvature.ErrNotPositiveDefinite, fmt.Sprintf(format, args...))
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
