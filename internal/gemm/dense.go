package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"
)

// Mul stores op(a)·op(b) in dst, which must have the product's shape and
// share no storage with a or b: the mat.Dense form of Gemm, for code that
// holds its matrices as *mat.Dense.
func Mul(dst *mat.Dense, tA blas.Transpose, a *mat.Dense, tB blas.Transpose, b *mat.Dense) {
	Gemm(tA, tB, 1, a.RawMatrix(), b.RawMatrix(), 0, dst.RawMatrix())
}
