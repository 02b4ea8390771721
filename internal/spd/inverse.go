package spd

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"

	"github.com/curvkit/curvkit/internal/gemm"
)

// base is the order below which Inverse inverts by Cholesky: the
// blocks above it are inverted with matrix products, which run several
// times faster than the factorisation's vector loops.
const base = 32

// Inverse stores S⁻¹ in dst (both n×n, full storage, row-major) for a
// symmetric positive definite S, by the block inverse
//
//	[A  B]⁻¹   [A⁻¹ + U Tᵀ   −U ]
//	[Bᵀ C]   = [−Uᵀ          X⁻¹],  T = A⁻¹B,  X = C − BᵀT,  U = T X⁻¹,
//
// recursively on A and on the Schur complement X (positive definite when S
// is). The Cholesky factorisations at the bottom of the recursion meet
// every pivot of S's own factorisation; it reports false, leaving dst
// undefined, when one is not positive or is at most 64·n·ε·max S_ii: a
// matrix singular in exact arithmetic keeps eigenvalues of a few n·ε·‖S‖
// once rounded (forming QΛQᵀ with a zero in Λ leaves such a pivot), so
// below that S is singular to working precision. s is read only.
func Inverse(dst, s blas64.General) bool {
	n := s.Rows
	var top float64
	for i := 0; i < n; i++ {
		top = math.Max(top, s.Data[i*s.Stride+i])
	}
	return inverseFloor(dst, s, 64*float64(n)*0x1p-52*top)
}

// ShiftedInverse stores (S + shift·I)⁻¹ in dst (n×n, full storage) for the
// symmetric S given by its upper triangle, as Inverse does, using work
// (at least n² long) for the shifted matrix: the damped factors of K-FAC.
func ShiftedInverse(dst blas64.General, s blas64.Symmetric, shift float64, work []float64) bool {
	n := s.N
	d := blas64.General{Rows: n, Cols: n, Stride: n, Data: work[:n*n]}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := s.Data[i*s.Stride+j]
			d.Data[i*n+j], d.Data[j*n+i] = v, v
		}
		d.Data[i*n+i] += shift
	}
	return Inverse(dst, d)
}

// inverseFloor is Inverse refusing pivots p with p² ≤ floor.
func inverseFloor(dst, s blas64.General, floor float64) bool {
	n := s.Rows
	if n <= base {
		return choleskyInverse(dst, s, floor)
	}
	n1 := n / 2
	n2 := n - n1
	A := view(s, 0, 0, n1, n1)
	B := view(s, 0, n1, n1, n2)
	Ai := view(dst, 0, 0, n1, n1)
	if !inverseFloor(Ai, A, floor) {
		return false
	}
	T := general(n1, n2)
	gemm.Gemm(blas.NoTrans, blas.NoTrans, 1, Ai, B, 0, T)
	X := general(n2, n2)
	for i := 0; i < n2; i++ {
		copy(X.Data[i*n2:(i+1)*n2], s.Data[(n1+i)*s.Stride+n1:(n1+i)*s.Stride+n])
	}
	gemm.Gemm(blas.Trans, blas.NoTrans, -1, B, T, 1, X)
	symmetrize(X) // rounding leaves X a little asymmetric
	Xi := view(dst, n1, n1, n2, n2)
	if !inverseFloor(Xi, X, floor) {
		return false
	}
	U := view(dst, 0, n1, n1, n2)
	gemm.Gemm(blas.NoTrans, blas.NoTrans, -1, T, Xi, 0, U) // −U
	gemm.Gemm(blas.NoTrans, blas.Trans, -1, U, T, 1, Ai)   // A⁻¹ + U Tᵀ
	symmetrize(Ai)
	for i := 0; i < n1; i++ {
		for j := 0; j < n2; j++ {
			dst.Data[(n1+j)*dst.Stride+i] = dst.Data[i*dst.Stride+n1+j]
		}
	}
	return true
}

// choleskyInverse is inverseFloor for small matrices, by LAPACK's Potrf
// and Potri in dst's upper triangle, mirrored.
func choleskyInverse(dst, s blas64.General, floor float64) bool {
	n := s.Rows
	for i := 0; i < n; i++ {
		copy(dst.Data[i*dst.Stride+i:i*dst.Stride+n], s.Data[i*s.Stride+i:i*s.Stride+n])
	}
	u := blas64.Symmetric{N: n, Stride: dst.Stride, Data: dst.Data, Uplo: blas.Upper}
	if _, ok := lapack64.Potrf(u); !ok {
		return false
	}
	for i := 0; i < n; i++ {
		if p := dst.Data[i*dst.Stride+i]; !(p*p > floor) {
			return false
		}
	}
	if _, ok := lapack64.Potri(blas64.Triangular{N: n, Stride: dst.Stride, Data: dst.Data, Uplo: blas.Upper, Diag: blas.NonUnit}); !ok {
		return false
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dst.Data[j*dst.Stride+i] = dst.Data[i*dst.Stride+j]
		}
	}
	return true
}

// symmetrize replaces the square g by (g + gᵀ)/2.
func symmetrize(g blas64.General) {
	for i := 0; i < g.Rows; i++ {
		for j := i + 1; j < g.Rows; j++ {
			v := 0.5 * (g.Data[i*g.Stride+j] + g.Data[j*g.Stride+i])
			g.Data[i*g.Stride+j], g.Data[j*g.Stride+i] = v, v
		}
	}
}

func view(g blas64.General, i, j, r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: g.Stride, Data: g.Data[i*g.Stride+j:]}
}

func general(r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
}
