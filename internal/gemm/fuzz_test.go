package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// FuzzGemm multiplies random matrices of arbitrary shapes, transposes,
// strides and scalars with every kernel (narrow ones on products of any
// width) and compares each entry with the
// triple loop (checkGemm); non-finite or huge scalars only must not panic.
// Each kernel, edge kernels included, also computes one tile of inner
// dimension k, as the product reads A, and must give the bits of its
// pure-Go twin (checkKernel).
func FuzzGemm(f *testing.F) {
	f.Add(uint8(5), uint8(13), uint8(3), false, true, uint8(0), 1.0, 0.0, uint64(1))
	f.Add(uint8(140), uint8(17), uint8(64), true, false, uint8(3), -0.5, 2.0, uint64(2))
	f.Add(uint8(12), uint8(16), uint8(1), true, true, uint8(1), 0.0, 1.0, uint64(3))
	f.Add(uint8(1), uint8(200), uint8(255), false, false, uint8(7), math.NaN(), 0.0, uint64(4))
	f.Add(uint8(26), uint8(6), uint8(200), false, true, uint8(0), 1.0, 1.0, uint64(5)) // narrow: a convolution's weight gradient
	f.Add(uint8(200), uint8(8), uint8(26), true, true, uint8(2), 1.0, 0.0, uint64(6))  // narrow: a convolution's forward pass
	f.Fuzz(func(t *testing.T, m, n, k uint8, transA, transB bool, pad uint8, alpha, beta float64, seed uint64) {
		if m == 0 || n == 0 || k == 0 {
			return
		}
		tA, tB := blas.NoTrans, blas.NoTrans
		if transA {
			tA = blas.Trans
		}
		if transB {
			tB = blas.Trans
		}
		saved := active
		defer func() { active = saved }()
		for _, tl := range allTilings() {
			active = tl
			rng := rand.New(rand.NewPCG(seed, 0))
			if !(math.Abs(alpha) < 1e100 && math.Abs(beta) < 1e100) {
				a, b, c := operands(rng, tA, tB, int(m), int(n), int(k), int(pad%8))
				Gemm(tA, tB, alpha, a, b, beta, c)
				continue
			}
			checkGemm(t, rng, tA, tB, int(m), int(n), int(k), int(pad%8), alpha, beta)
		}
		if !(math.Abs(alpha) < 1e100 && math.Abs(beta) < 1e100) {
			return
		}
		for _, tl := range allKernels() {
			checkKernel(t, tl, rand.New(rand.NewPCG(seed, 1)), int(k), transA, tl.nr+int(pad%8), alpha, beta)
		}
	})
}

// FuzzCorr computes correlations of arbitrary geometry with the assembly
// kernels and with their pure-Go twins and compares each output and weight
// gradient entry with the definitions (naiveCorr).
func FuzzCorr(f *testing.F) {
	f.Add(uint8(0), uint8(23), uint8(23), uint8(4), uint8(4), uint8(5), uint8(0), uint64(1)) // the first LeNet convolution
	f.Add(uint8(2), uint8(7), uint8(7), uint8(2), uint8(2), uint8(13), uint8(1), uint64(2))
	f.Add(uint8(1), uint8(0), uint8(13), uint8(0), uint8(3), uint8(0), uint8(2), uint64(3))
	f.Fuzz(func(t *testing.T, c, h, w, kh, kw, m, n uint8, seed uint64) {
		cc := corrCase{c: 1 + int(c%4), kh: 1 + int(kh%5), kw: 1 + int(kw%5), m: 1 + int(m%14), n: 1 + int(n%3), extra: int(seed % 3)}
		cc.h, cc.w = cc.kh+int(h%12), cc.kw+int(w%24)
		fwd, dot := corrFwdKernel, corrDotKernel
		defer func() { corrFwdKernel, corrDotKernel = fwd, dot }()
		for _, twin := range []bool{false, true} {
			if twin {
				corrFwdKernel, corrDotKernel = nil, nil
			}
			rng := rand.New(rand.NewPCG(seed, 0))
			corr, x, wts := cc.corr(rng)
			oh, ow, k := corr.dims()
			R := oh * ow
			g := randGeneral(rng, cc.n, cc.m*R, cc.extra)
			want, wantD := naiveCorr(corr, wts, k+1, cc.m, true, x, g)
			y := randGeneral(rng, cc.n, cc.m*R, 0)
			CorrForward(corr, y, wts, k+1, cc.m, true, false, x)
			checkClose(t, "forward", want, func(i int) float64 { return y.Data[i] }, k)
			d := make([]float64, cc.m*k)
			CorrGrad(corr, d, k, cc.m, false, g, x)
			checkClose(t, "weight gradient", wantD, func(i int) float64 { return d[i] }, R*cc.n)
		}
	})
}
