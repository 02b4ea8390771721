package secondorder

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Preconditioner applies the inverse of a symmetric positive definite matrix
// P, the operator-like counterpart of curvature.Operator for solves.
// Conjugate gradients and Steihaug–Toint take one; a K-FAC or diagonal
// approximation of the curvature is the usual P.
type Preconditioner interface {
	// Dim returns n.
	Dim() int
	// SolveVecTo stores P⁻¹v in dst. dst and v have length Dim and must not
	// alias.
	SolveVecTo(dst, v []float64)
}

// Diagonal is the preconditioner P = diag(d): SolveVecTo divides by d.
type Diagonal []float64

// NewDiagonal returns diag(d) as a Preconditioner after checking that every
// entry is positive and finite. d is not copied.
func NewDiagonal(d []float64) (Diagonal, error) {
	if len(d) == 0 {
		return nil, fmt.Errorf("secondorder: empty diagonal preconditioner")
	}
	for i, v := range d {
		if !(v > 0) || !finite(v) {
			return nil, fmt.Errorf("secondorder: %w: diagonal preconditioner entry %d is %v", curvature.ErrNotPositiveDefinite, i, v)
		}
	}
	return Diagonal(d), nil
}

// Dim returns len(d).
func (d Diagonal) Dim() int { return len(d) }

// SolveVecTo stores v_i/d_i in dst.
func (d Diagonal) SolveVecTo(dst, v []float64) {
	if len(dst) != len(d) || len(v) != len(d) {
		panic("secondorder: vector length mismatch")
	}
	for i, di := range d {
		dst[i] = v[i] / di
	}
}

// CholeskyPreconditioner applies A⁻¹ through a Cholesky factorisation of a
// symmetric positive definite A.
type CholeskyPreconditioner struct {
	chol mat.Cholesky
	n    int
}

// NewCholeskyPreconditioner factorises a. It returns an error wrapping
// curvature.ErrNotPositiveDefinite when a is not positive definite.
func NewCholeskyPreconditioner(a mat.Symmetric) (*CholeskyPreconditioner, error) {
	p := &CholeskyPreconditioner{n: a.SymmetricDim()}
	if p.n == 0 {
		return nil, fmt.Errorf("secondorder: empty matrix for Cholesky preconditioner")
	}
	if !p.chol.Factorize(a) {
		return nil, fmt.Errorf("secondorder: %w: Cholesky preconditioner", curvature.ErrNotPositiveDefinite)
	}
	return p, nil
}

// Dim returns n.
func (p *CholeskyPreconditioner) Dim() int { return p.n }

// SolveVecTo stores A⁻¹v in dst.
func (p *CholeskyPreconditioner) SolveVecTo(dst, v []float64) {
	if len(dst) != p.n || len(v) != p.n {
		panic("secondorder: vector length mismatch")
	}
	// A Condition error only warns of ill-conditioning; the solution is
	// still the best available.
	_ = p.chol.SolveVecTo(mat.NewVecDense(p.n, dst), mat.NewVecDense(p.n, v))
}
