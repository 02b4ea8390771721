package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/curvkit/curvkit/internal/gemm"
)

// mulWeights stores a·op(w) + β·dst in dst, a N×K batch of rows and op(w)
// a K×M weight matrix.
//
// internal/gemm packs op(w), all K·M values, into panels for a product
// of more rows than its block (132) and for op(w) = wᵀ, and where it
// reads w in place it reads it as B, without prefetching: for a batch of
// few rows against a wide layer (K-FAC's statistics on a quarter of a
// batch of 256 against the MNIST autoencoder's weights) the packing took a
// quarter of the time of the backward pass and the factors' updates
// together. The transposed product dstᵀ = op(w)ᵀ·aᵀ reads w in place as
// A, which the kernel prefetches, and packs aᵀ, N·K values, instead; its
// M×N result is then transposed into dst. The kernel sums each entry of
// either in the same order (one fused multiply-add per inner index, in
// order, dst folded in first), so both orientations give the same bits.
// Other β than 0 and 1 take the direct product.
func mulWeights(tW blas.Transpose, a, w blas64.General, beta float64, dst blas64.General) {
	n, m := dst.Rows, dst.Cols
	k := a.Cols
	if n == 0 || !transposeWins(n, m, k) || (beta != 0 && beta != 1) {
		gemm.Gemm(blas.NoTrans, tW, 1, a, w, beta, dst)
		return
	}
	tWt := blas.Trans
	if tW != blas.NoTrans {
		tWt = blas.NoTrans
	}
	s, put := scratch(m * n)
	defer put()
	t := blas64.General{Rows: m, Cols: n, Stride: n, Data: s}
	if beta == 1 {
		// dst goes in first, as the direct product folds it in before the
		// first block of the inner dimension: adding it afterwards would
		// round differently.
		transposeInto(t, dst)
	}
	gemm.Gemm(tWt, blas.Trans, 1, w, a, beta, t)
	transposeInto(dst, t)
}

// transposeWins reports whether an N×M product over an inner dimension K
// should run transposed: when packing the weights, K·M values, copies more
// than 1.5 times what packing the rows and transposing the result does,
// N·(K+M) values. BenchmarkMulWeights (-cpu 1, two runs, weights in
// cache) put the transposed product at 1.25–1.28 times the direct one's
// speed for x·Wᵀ at 64 rows against 1000×784, 1.07–1.13 against 512×512,
// 1.01–1.05 at 250 and 256 rows against 1000×784, and g·W as fast or
// faster at 64 rows (1.00–1.19), all picked by this; and at 0.79–0.96 at
// 1,000 rows, at 250 and 256 rows against 512×512 and at every size
// against 128×128, where this picks the direct product. It also picks g·W
// at 250 and 256 rows against 1000×784, 0.94–0.97 with the weights in
// cache, untimed with them coming from memory. With the weights
// coming from memory (K-FAC's statistics at MNIST width, 64 rows) g·W read
// in place as B took the statistics from 0.81 to 0.72 of the kernel's rate.
func transposeWins(n, m, k int) bool {
	return 3*n*(k+m) <= 2*k*m
}

// transposeInto stores tᵀ in dst in blocks of 8×8, so that both sides
// are read and written a cache line at a time.
func transposeInto(dst, t blas64.General) {
	const bs = 8
	for i0 := 0; i0 < dst.Rows; i0 += bs {
		i1 := min(i0+bs, dst.Rows)
		for j0 := 0; j0 < dst.Cols; j0 += bs {
			j1 := min(j0+bs, dst.Cols)
			for i := i0; i < i1; i++ {
				row := dst.Data[i*dst.Stride+j0 : i*dst.Stride+j1]
				for j := range row {
					row[j] = t.Data[(j0+j)*t.Stride+i]
				}
			}
		}
	}
}
