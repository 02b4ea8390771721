package vec

import (
	"math"
	"testing"
)

// AllFinite agrees with the definition (no NaN, no ±Inf) for every
// position of a bad value in slices of every length up to 40 (the
// assembly takes blocks of 16, Go the rest), and for the largest finite
// values, whose v − v and v·0 are still 0.
func TestAllFinite(t *testing.T) {
	for n := 0; n <= 40; n++ {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.MaxFloat64 * float64(1-2*(i%2))
		}
		if !AllFinite(x) || !allFiniteGo(x) {
			t.Fatalf("n = %d: finite values reported bad", n)
		}
		for i := range x {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				old := x[i]
				x[i] = bad
				if AllFinite(x) || allFiniteGo(x) {
					t.Fatalf("n = %d: %v at %d not found", n, bad, i)
				}
				x[i] = old
			}
		}
	}
}

// FirstNonFinite finds the first bad value, of each kind, at every position
// of slices of every length up to 40 (the assembly's blocks and the Go
// tail), with a second bad value after it; -1 for finite slices.
func TestFirstNonFinite(t *testing.T) {
	for n := 0; n <= 40; n++ {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.MaxFloat64 * float64(1-2*(i%2))
		}
		if got := FirstNonFinite(x); got != -1 {
			t.Fatalf("n = %d: finite values: got %d, want -1", n, got)
		}
		for i := range x {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				y := append([]float64(nil), x...)
				y[i] = bad
				if i+1 < n {
					y[n-1] = math.NaN()
				}
				if got := FirstNonFinite(y); got != i {
					t.Fatalf("n = %d: %v at %d: got %d", n, bad, i, got)
				}
			}
		}
	}
}

// BenchmarkAllFinite times AllFinite (assembly where the CPU has AVX2)
// beside the Go loop, in one run.
func BenchmarkAllFinite(b *testing.B) {
	x := make([]float64, 1<<15)
	for _, c := range []struct {
		name string
		f    func([]float64) bool
	}{{"AllFinite", AllFinite}, {"Go", allFiniteGo}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f(x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(x)), "ns/elem")
		})
	}
}
