package curvature

import (
	"gonum.org/v1/gonum/mat"
)

// Operator is a symmetric linear map on R^n known through its products.
// Every curvature matrix, dense or matrix-free, and every approximation of
// one satisfies it, so a solver written against Operator runs on any of them.
type Operator interface {
	// Dim returns n, the size of the vectors the operator acts on.
	Dim() int
	// MulVecTo stores M·v in dst. dst and v have length Dim and must not
	// alias.
	MulVecTo(dst, v []float64)
}

// DampedSolver applies the damped inverse (M + λI)⁻¹ of a curvature M: an
// exact matrix factorised, an approximation through its structure, or an
// operator solved iteratively. Every approximation of package approx is
// one, and it is what the preconditioned solvers and the natural-gradient
// optimizer of package secondorder take, so any approximation
// preconditions any of them.
type DampedSolver interface {
	// Dim returns n.
	Dim() int
	// SolveDampedTo stores (M + λI)⁻¹·v in dst. It returns an error
	// wrapping ErrNotPositiveDefinite when M + λI is not positive definite
	// and an error when λ is negative or not finite. dst and v have length
	// Dim and must not alias. Some solvers document a different damped
	// matrix (K-FAC's factored damping); they invert that one.
	SolveDampedTo(dst, v []float64, lambda float64) error
}

// MatMuler is implemented by operators that multiply a block of vectors at
// once faster than one column at a time.
type MatMuler interface {
	Operator
	// MulMatTo stores M·V in dst. V is Dim×k and dst is Dim×k; they must
	// not alias.
	MulMatTo(dst *mat.Dense, v mat.Matrix)
}

// MulMatTo stores op·V in dst, using op's MulMatTo when it has one and
// column-by-column products otherwise. dst must be Dim×k when V is Dim×k,
// or empty, in which case it is resized.
func MulMatTo(dst *mat.Dense, op Operator, v mat.Matrix) {
	n := op.Dim()
	k := mulMatDims(dst, n, v)
	if mm, ok := op.(MatMuler); ok {
		mm.MulMatTo(dst, v)
		return
	}
	col := make([]float64, n)
	out := make([]float64, n)
	for j := 0; j < k; j++ {
		mat.Col(col, j, v)
		op.MulVecTo(out, col)
		dst.SetCol(j, out)
	}
}

// mulMatDims panics unless V has the n rows of an operator of dimension n
// and dst is n×k for V's k columns, or empty, in which case it is resized;
// it returns k.
func mulMatDims(dst *mat.Dense, n int, v mat.Matrix) int {
	r, k := v.Dims()
	if r != n {
		panic("curvature: operator and matrix dimension mismatch")
	}
	if dst.IsEmpty() {
		dst.ReuseAs(n, k)
	} else if dr, dc := dst.Dims(); dr != n || dc != k {
		panic("curvature: destination dimension mismatch")
	}
	return k
}

// Dense is an Operator backed by a dense symmetric matrix.
type Dense struct {
	mat.Symmetric
}

// NewDense returns the operator v ↦ a·v. a is not copied.
func NewDense(a mat.Symmetric) Dense { return Dense{a} }

// Dim returns the order of the matrix.
func (d Dense) Dim() int { return d.SymmetricDim() }

// MulVecTo stores a·v in dst.
func (d Dense) MulVecTo(dst, v []float64) {
	n := d.SymmetricDim()
	if len(dst) != n || len(v) != n {
		panic("curvature: vector length mismatch")
	}
	mat.NewVecDense(n, dst).MulVec(d.Symmetric, mat.NewVecDense(n, v))
}

// MulMatTo stores a·V in dst.
func (d Dense) MulMatTo(dst *mat.Dense, v mat.Matrix) {
	dst.Mul(d.Symmetric, v)
}

// Materialize returns op as a dense symmetric matrix, built from the
// products op·e_j in blocks and symmetrised as (M + Mᵀ)/2, which removes the
// rounding asymmetry of matrix-free products. It refuses with a
// *BudgetError when n² floats exceed budget (0: DefaultBudget; negative: no limit).
func Materialize(op Operator, budget int) (*mat.SymDense, error) {
	n := op.Dim()
	if err := CheckBudget("materialize", n, budget); err != nil {
		return nil, err
	}
	const blk = 64
	full := mat.NewDense(n, n, nil)
	for j0 := 0; j0 < n; j0 += blk {
		j1 := min(j0+blk, n)
		e := mat.NewDense(n, j1-j0, nil)
		for j := j0; j < j1; j++ {
			e.Set(j, j-j0, 1)
		}
		MulMatTo(full.Slice(0, n, j0, j1).(*mat.Dense), op, e)
	}
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, 0.5*(full.At(i, j)+full.At(j, i)))
		}
	}
	return s, nil
}
