package gemm

import (
	"testing"
)

func BenchmarkZZKernel(b *testing.B) {
	for _, tl := range tilings {
		b.Run("", func(b *testing.B) {
			const k = 256
			a := make([]float64, tl.mr*k)
			bb := make([]float64, tl.nr*k)
			c := make([]float64, tl.mr*tl.nr)
			for b.Loop() {
				tl.kernel(k, &a[0], 1, tl.mr, &bb[0], &c[0], tl.nr, 1, 0)
			}
			b.ReportMetric(2*float64(tl.mr*tl.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
