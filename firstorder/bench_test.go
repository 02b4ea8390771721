package firstorder

import (
	"math/rand/v2"
	"testing"
)

// benchmarkStep times Step on n parameters and reports the cost per
// parameter, the figure compared with torch.optim (docs/firstorder.md). The
// gradient is fixed, as in testdata/time_torch.py, or, with two, alternates
// between two, so that no moment settles where the arithmetic degenerates (a
// constant gradient drives centered RMSprop's variance into subnormals).
func benchmarkStep(b *testing.B, n, grads int, build func(n int) (Optimizer, error)) {
	opt, err := build(n)
	if err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	x, g := make([]float64, n), make([][]float64, grads)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	for k := range g {
		g[k] = make([]float64, n)
		for i := range g[k] {
			g[k][i] = rnd.NormFloat64()
		}
	}
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		if err := opt.Step(x, g[k%grads]); err != nil {
			b.Fatal(err)
		}
		k++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
}

func sgdMomentumBench(n int) (Optimizer, error) {
	return NewSGD(n, SGDSettings{LR: 1e-3, Momentum: 0.9})
}
func adamBench(n int) (Optimizer, error) { return NewAdam(n, DefaultAdamSettings()) }

func BenchmarkSGDMomentum10k(b *testing.B) { benchmarkStep(b, 1e4, 1, sgdMomentumBench) }
func BenchmarkSGDMomentum1M(b *testing.B)  { benchmarkStep(b, 1e6, 1, sgdMomentumBench) }
func BenchmarkAdam10k(b *testing.B)        { benchmarkStep(b, 1e4, 1, adamBench) }
func BenchmarkAdam1M(b *testing.B)         { benchmarkStep(b, 1e6, 1, adamBench) }

// The other optimizers and variants, 10k parameters.
func BenchmarkAll10k(b *testing.B) {
	for _, c := range configs() {
		b.Run(c.name, func(b *testing.B) { benchmarkStep(b, 1e4, 2, c.build) })
	}
}

// BenchmarkGroups times Adam's and SGD-momentum's Step at 10k parameters
// with one group, with two, and with no weight decay on the biases of
// layers of 64 inputs (154 rows of 64 weights and a bias: 308 runs, so 308
// calls of the kernel on short slices).
func BenchmarkGroups(b *testing.B) {
	const n = 154 * 65
	var biases []Span
	for lo := 0; lo < n; lo += 10 * 65 {
		biases = append(biases, Biases(lo, min(lo+10*65, n), 64)...)
	}
	for _, c := range []struct {
		name  string
		build func(n int) (Optimizer, error)
	}{{"Adam", adamBench}, {"SGDMomentum", sgdMomentumBench}} {
		for _, g := range []struct {
			name   string
			groups []Group
		}{
			{"one", nil},
			{"two", NoDecay(n, Span{0, n / 2})},
			{"biases", NoDecay(n, biases...)},
		} {
			b.Run(c.name+"/"+g.name, func(b *testing.B) {
				benchmarkStep(b, n, 1, func(n int) (Optimizer, error) {
					opt, err := c.build(n)
					if err != nil {
						return nil, err
					}
					return opt, opt.(interface{ SetGroups([]Group) error }).SetGroups(g.groups)
				})
			})
		}
	}
}
