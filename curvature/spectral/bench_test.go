package spectral

import (
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// The top five eigenvalues of the GGN of a 64-32-32-10 tanh classifier
// (3,466 parameters) on 256 digits: matrix-free Lanczos against the dense
// GGN and mat.EigenSym (values only), each from the model and batch. Run
// with -benchtime=1x: one dense iteration takes about a minute on two
// cores and 0.9 GB.
func BenchmarkGGNTop5Lanczos(b *testing.B)       { benchGGNTop5(b, false) }
func BenchmarkGGNTop5DenseEigenSym(b *testing.B) { benchGGNTop5(b, true) }

func benchGGNTop5(b *testing.B, dense bool) {
	m, theta, batch := digitsGGN(b, []int{64, 32, 32, 10}, 256)
	var top float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if dense {
			g, err := m.Dense(curvature.GGN, theta, batch, nil)
			if err != nil {
				b.Fatal(err)
			}
			var eig mat.EigenSym
			if !eig.Factorize(g, false) {
				b.Fatal("EigenSym failed")
			}
			vals := eig.Values(nil)
			top = vals[len(vals)-1]
			continue
		}
		op, err := m.Operator(curvature.GGN, theta, batch, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := (&Lanczos{K: 5, Seed: 1}).Eigen(op)
		if err != nil {
			b.Fatal(err)
		}
		top = res.Values[0]
		b.ReportMetric(float64(res.Products), "products/op")
	}
	b.ReportMetric(top, "λmax")
}

// The trace of the GGN of the same 64-32-32-10 classifier (3,466
// parameters) on 256 digits with 60 products: XTrace's extra work beyond
// the products (orthogonalising 30 vectors, the leave-one-out algebra)
// against Hutch++'s and Hutchinson's, at the same product count.
func BenchmarkGGNTraceXTrace(b *testing.B)     { benchGGNTrace(b, &XTrace{Products: 60, Seed: 1}) }
func BenchmarkGGNTraceHutchPP(b *testing.B)    { benchGGNTrace(b, &HutchPlusPlus{Products: 60, Seed: 1}) }
func BenchmarkGGNTraceHutchinson(b *testing.B) { benchGGNTrace(b, &Hutchinson{Products: 60, Seed: 1}) }

func benchGGNTrace(b *testing.B, est TraceEstimator) {
	m, theta, batch := digitsGGN(b, []int{64, 32, 32, 10}, 256)
	op, err := m.Operator(curvature.GGN, theta, batch, nil)
	if err != nil {
		b.Fatal(err)
	}
	var e Estimate
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e, err = est.Trace(op); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(e.Value, "trace")
	b.ReportMetric(e.StdErr, "stderr")
}
