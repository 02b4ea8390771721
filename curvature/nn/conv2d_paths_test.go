package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/gemm"
)

// A convolution of stride 1 gives the same numbers, to rounding, through
// internal/gemm's correlation kernels and by unfolding its patches, in
// every product: shapes with and without padding, with output rows that
// are not whole vectors of 8 locations and channels that are not whole
// tiles of 6, and the LeNet-style network's two convolutions; input
// gradients through both correlatesInput's choices, with padding or not.
func TestConv2dPathsAgree(t *testing.T) {
	if !gemm.HasCorr() {
		t.Skip("no correlation kernels on this CPU or build: only the unfolding path runs")
	}
	convs := []Conv2d{
		{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}},
		{In: 6, Out: 16, H: 12, W: 12, Kernel: [2]int{5, 5}},
		{In: 3, Out: 7, H: 9, W: 11, Kernel: [2]int{3, 3}, Padding: [2]int{1, 2}},
		{In: 2, Out: 13, H: 5, W: 21, Kernel: [2]int{2, 4}, Padding: [2]int{0, 1}},
		{In: 4, Out: 2, H: 3, W: 3, Kernel: [2]int{3, 3}},
		{In: 6, Out: 5, H: 10, W: 9, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}},
		{In: 12, Out: 3, H: 8, W: 8, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}},
		{In: 6, Out: 4, H: 14, W: 14, Kernel: [2]int{3, 3}},
	}
	rng := rand.New(rand.NewPCG(8, 8))
	correlated := 0
	for _, c := range convs {
		if c.correlatesInput(c.geom()) {
			correlated++
		}
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			const n = 5
			P := c.NumParams()
			// Views into wider matrices, as a tape's per-sample gradients
			// are column blocks of one N×P matrix.
			rnd := func(r, cols int) *mat.Dense {
				m := mat.NewDense(r, cols+3, nil)
				for i := 0; i < r; i++ {
					for j := 0; j < cols+3; j++ {
						m.Set(i, j, rng.NormFloat64())
					}
				}
				return m.Slice(0, r, 1, 1+cols).(*mat.Dense)
			}
			vec := func() []float64 { return append([]float64(nil), rnd(1, P).RawRowView(0)...) }
			theta, dtheta := vec(), vec()
			x, dx, g := rnd(n, c.InSize()), rnd(n, c.InSize()), rnd(n, c.OutSize())
			run := func(unfold bool) []float64 {
				noDirect = unfold
				defer func() { noDirect = false }()
				var out []float64
				add := func(m *mat.Dense) {
					r, cols := m.Dims()
					for i := 0; i < r; i++ {
						out = append(out, m.RawRowView(i)[:cols]...)
					}
				}
				y := rnd(n, c.OutSize())
				c.Forward(y, x, theta)
				add(y)
				c.JVP(y, x, nil, theta, dx, dtheta)
				add(y)
				c.JVP(y, x, nil, theta, nil, dtheta)
				add(y)
				gx, gth := rnd(n, c.InSize()), make([]float64, P)
				c.VJP(gx, gth, x, nil, theta, g)
				add(gx)
				out = append(out, gth...)
				per := rnd(n, P)
				c.PerSampleVJP(per, x, nil, theta, g)
				add(per)
				c.SecondOrderVJP(gx, gth, x, nil, theta, g, dx, dtheta)
				add(gx)
				return append(out, gth...)
			}
			direct, unfolded := run(false), run(true)
			for i, v := range unfolded {
				if d := direct[i]; !(math.Abs(d-v) <= 1e-12*(1+math.Abs(v))) {
					t.Fatalf("entry %d: %v through the correlation kernels, %v unfolded", i, d, v)
				}
			}
		})
	}
	if correlated < 3 || correlated == len(convs) {
		t.Errorf("%d of %d input gradients correlated: the cases do not cover both ways", correlated, len(convs))
	}
}

// BenchmarkConv2dPaths times the forward and backward passes of the
// LeNet-style network's convolutions (as BenchmarkConv2dLeNet…) through
// the correlation kernels and by unfolding their patches.
func BenchmarkConv2dPaths(b *testing.B) {
	for _, c := range []Conv2d{
		{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}},
		{In: 6, Out: 16, H: 12, W: 12, Kernel: [2]int{5, 5}},
	} {
		for _, unfold := range []bool{false, true} {
			name := "direct"
			if unfold {
				name = "unfold"
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", c.In, c.H, c.W, name), func(b *testing.B) {
				if !unfold && !gemm.HasCorr() {
					b.Skip("no correlation kernels on this CPU or build")
				}
				noDirect = unfold
				defer func() { noDirect = false }()
				const n = 128
				rng := rand.New(rand.NewPCG(1, 1))
				rnd := func(r, cols int) *mat.Dense {
					m := mat.NewDense(r, cols, nil)
					for i := range m.RawMatrix().Data {
						m.RawMatrix().Data[i] = rng.NormFloat64()
					}
					return m
				}
				theta := rnd(1, c.NumParams()).RawRowView(0)
				x, g := rnd(n, c.InSize()), rnd(n, c.OutSize())
				y, dx := mat.NewDense(n, c.OutSize(), nil), mat.NewDense(n, c.InSize(), nil)
				dtheta := make([]float64, c.NumParams())
				if c.In == 1 {
					dx = nil // the first layer of a network needs no input gradient
				}
				for b.Loop() {
					c.Forward(y, x, theta)
					c.VJP(dx, dtheta, x, y, theta, g)
				}
			})
		}
	}
}

// BenchmarkConv2dInputGrad times the input gradient of the LeNet-style
// network's convolutions and of a padded 3×3 convolution, batch 128, as the
// correlation inputCorr and as a product and col2im (correlatesInput's two
// ways).
func BenchmarkConv2dInputGrad(b *testing.B) {
	if !gemm.HasCorr() {
		b.Skip("no correlation kernels on this CPU or build")
	}
	for _, c := range []Conv2d{
		{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}},
		{In: 6, Out: 16, H: 12, W: 12, Kernel: [2]int{5, 5}},
		{In: 6, Out: 6, H: 16, W: 16, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}},
	} {
		for _, way := range []struct {
			name  string
			waste float64
		}{{"correlated", math.Inf(1)}, {"unfolded", 0}} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", c.In, c.H, c.W, way.name), func(b *testing.B) {
				saved := corrInputWaste
				corrInputWaste = way.waste
				defer func() { corrInputWaste = saved }()
				const n = 128
				rng := rand.New(rand.NewPCG(1, 1))
				theta := make([]float64, c.NumParams())
				for i := range theta {
					theta[i] = rng.NormFloat64()
				}
				x, g := mat.NewDense(n, c.InSize(), nil), mat.NewDense(n, c.OutSize(), nil)
				for _, m := range []*mat.Dense{x, g} {
					for i := range m.RawMatrix().Data {
						m.RawMatrix().Data[i] = rng.NormFloat64()
					}
				}
				dx := mat.NewDense(n, c.InSize(), nil)
				for b.Loop() {
					c.VJP(dx, nil, x, nil, theta, g)
				}
			})
		}
	}
}
