package gemm

import "math"

// kernelGo is the pure-Go twin of the assembly micro-kernels: it stores
//
//	α·Σ_p a[i·rs + p·ks]·b[ldb·p + j] + β·c[i·ldc + j]
//
// in c[i·ldc + j] for i < mr, j < nr, p < kc, from kc rows of B ldb apart
// (nr in a packed panel). It sums each entry as they do, one fused multiply-add per p in
// order, then scales by α and adds βC with one more (β = 0 does not read
// c), so it gives their bits: the tests hold them to it.
func kernelGo(mr, nr, kc int, a []float64, rs, ks int, b, c []float64, ldc int, alpha, beta float64, ldb int) {
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			var s float64
			for p := 0; p < kc; p++ {
				s = math.FMA(a[i*rs+p*ks], b[p*ldb+j], s)
			}
			s *= alpha
			if beta != 0 || math.IsNaN(beta) {
				s = math.FMA(beta, c[i*ldc+j], s)
			}
			c[i*ldc+j] = s
		}
	}
}
