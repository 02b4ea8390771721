package nn_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
)

// convCases are convolutions of several shapes: square and not, stride
// and padding in one direction or both, a 1×1 kernel, a kernel that
// exactly fills the padded input, and a stride that skips input columns.
var convCases = []struct {
	name string
	conv nn.Conv2d
}{
	{"3x3", nn.Conv2d{In: 1, Out: 2, H: 5, W: 5, Kernel: [2]int{3, 3}}},
	{"3x2 stride 2x1 pad 1x0", nn.Conv2d{In: 2, Out: 3, H: 5, W: 6, Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 0}}},
	{"3x3 stride 2 pad 1", nn.Conv2d{In: 3, Out: 2, H: 7, W: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{"1x1", nn.Conv2d{In: 3, Out: 4, H: 3, W: 4, Kernel: [2]int{1, 1}}},
	{"kernel fills padded input", nn.Conv2d{In: 2, Out: 2, H: 3, W: 2, Kernel: [2]int{5, 4}, Padding: [2]int{1, 1}}},
	{"stride 3 pad 2", nn.Conv2d{In: 1, Out: 3, H: 6, W: 7, Kernel: [2]int{2, 3}, Stride: [2]int{3, 3}, Padding: [2]int{2, 2}}},
}

// Every convolution passes the layer checks of package verify: JVP and
// second-order term against finite differences, VJP as the adjoint,
// per-sample VJP rows against the VJP, and the Kronecker check, each
// per-sample gradient equal to Σ_r g_r ā_rᵀ from KronInputs and KronGrads.
func TestConv2dVerify(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, c.conv.Validate())
			rep := verify.Layer(c.conv, 3, rand.New(rand.NewPCG(1, 1)), nil)
			require.NoError(t, rep.Err(), rep.String())
			assert.Len(t, rep.Checks, 9, "every check ran, the Kronecker one included")
		})
	}
}

// naiveConv is the convolution written from its definition, PyTorch's
// nn.Conv2d with parameters laid out per output channel as the kernel
// (C, kh, kw) then the bias:
//
//	y[n, o, a, b] = bias_o + Σ_{c,i,j} w[o, c, i, j] · x[n, c, a·sh + i − ph, b·sw + j − pw]
//
// with x zero outside the input.
func naiveConv(c nn.Conv2d, theta []float64, x *mat.Dense) *mat.Dense {
	sh, sw := max(c.Stride[0], 1), max(c.Stride[1], 1)
	kh, kw := c.Kernel[0], c.Kernel[1]
	oh := (c.H+2*c.Padding[0]-kh)/sh + 1
	ow := (c.W+2*c.Padding[1]-kw)/sw + 1
	q := c.In*kh*kw + 1
	n, _ := x.Dims()
	y := mat.NewDense(n, c.Out*oh*ow, nil)
	for s := 0; s < n; s++ {
		for o := 0; o < c.Out; o++ {
			for a := 0; a < oh; a++ {
				for b := 0; b < ow; b++ {
					v := theta[o*q+q-1]
					for ch := 0; ch < c.In; ch++ {
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								ih, iw := a*sh+i-c.Padding[0], b*sw+j-c.Padding[1]
								if ih < 0 || ih >= c.H || iw < 0 || iw >= c.W {
									continue
								}
								v += theta[o*q+(ch*kh+i)*kw+j] * x.At(s, (ch*c.H+ih)*c.W+iw)
							}
						}
					}
					y.Set(s, (o*oh+a)*ow+b, v)
				}
			}
		}
	}
	return y
}

// Forward against the nested-loop convolution on every case, and against
// two small convolutions worked out by hand.
func TestConv2dForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			const n = 4
			theta := randSlice(c.conv.NumParams(), rng)
			x := randDense(n, c.conv.InSize(), rng)
			y := mat.NewDense(n, c.conv.OutSize(), nil)
			c.conv.Forward(y, x, theta)
			assert.True(t, mat.EqualApprox(y, naiveConv(c.conv, theta, x), 1e-13))
			ch, h, w := c.conv.OutShape()
			assert.Equal(t, c.conv.OutSize(), ch*h*w)
		})
	}

	hand := []struct {
		name  string
		conv  nn.Conv2d
		x     []float64
		theta []float64
		want  []float64
	}{
		{
			// Input channels [[1,2],[3,4]] and [[5,6],[7,8]], kernel 2×1
			// (kh=2, kw=1): output channel 0 has w[0,0,:,0] = (1, 0),
			// w[0,1,:,0] = (0, −2), bias 10, so y[0,0,b] = x[0,0,b] −
			// 2·x[1,1,b] + 10 = 1 − 14 + 10, 2 − 16 + 10; channel 1 has
			// (0, 2), (1, 0), bias −10: 2·3 + 5 − 10, 2·4 + 6 − 10.
			name:  "two channels in and out",
			conv:  nn.Conv2d{In: 2, Out: 2, H: 2, W: 2, Kernel: [2]int{2, 1}},
			x:     []float64{1, 2, 3, 4, 5, 6, 7, 8},
			theta: []float64{1, 0, 0, -2, 10, 0, 2, 1, 0, -10},
			want:  []float64{-3, -4, 1, 4},
		},
		{
			// Input 1..9 as 3×3, a 3×3 kernel of ones, stride 2, padding
			// 1: each output sums the 2×2 corner block its window meets,
			// 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9, plus the bias 0.5.
			name:  "stride 2 padding 1",
			conv:  nn.Conv2d{In: 1, Out: 1, H: 3, W: 3, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}},
			x:     []float64{1, 2, 3, 4, 5, 6, 7, 8, 9},
			theta: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5},
			want:  []float64{12.5, 16.5, 24.5, 28.5},
		},
	}
	for _, c := range hand {
		t.Run(c.name, func(t *testing.T) {
			y := mat.NewDense(1, c.conv.OutSize(), nil)
			c.conv.Forward(y, mat.NewDense(1, len(c.x), c.x), c.theta)
			assert.Equal(t, c.want, y.RawRowView(0))
		})
	}
}

// KronInputs holds the augmented patches of the nested-loop definition:
// ā_r of sample n, dotted with output channel o's parameters, is that
// channel's output at r; and KronGrads is the channel-major gradient
// rearranged by location.
func TestConv2dKronLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			const n = 3
			p, q, R := c.conv.KronShape()
			require.Equal(t, c.conv.NumParams(), p*q)
			require.Equal(t, c.conv.OutSize(), p*R)
			theta := randSlice(c.conv.NumParams(), rng)
			x := randDense(n, c.conv.InSize(), rng)
			y := naiveConv(c.conv, theta, x)
			abar := c.conv.KronInputs(nil, x)
			g := c.conv.KronGrads(nil, y)
			for s := 0; s < n; s++ {
				for r := 0; r < R; r++ {
					assert.Equal(t, 1.0, abar.At(s*R+r, q-1))
					for o := 0; o < p; o++ {
						dot := mat.Dot(abar.RowView(s*R+r), mat.NewVecDense(q, theta[o*q:(o+1)*q]))
						assert.InDelta(t, y.At(s, o*R+r), dot, 1e-13)
						assert.Equal(t, y.At(s, o*R+r), g.At(s*R+r, o))
					}
				}
			}
		})
	}
}

// Shapes that do not fit are refused by NewConv2d, and by nn.New for a
// literal, with the layer's index and the sizes.
func TestConv2dRefusesBadShapes(t *testing.T) {
	cases := []struct {
		name                string
		in, h, w, out       int
		kernel, stride, pad [2]int
		want                string
	}{
		{"kernel too tall", 1, 4, 8, 2, [2]int{5, 3}, [2]int{}, [2]int{}, "kernel 5×3 is larger than the padded input 4×8"},
		{"kernel too wide with padding", 2, 3, 3, 2, [2]int{3, 6}, [2]int{}, [2]int{1, 1}, "kernel 3×6 is larger than the padded input 5×5"},
		{"no input channels", 0, 3, 3, 2, [2]int{2, 2}, [2]int{}, [2]int{}, "input 0×3×3"},
		{"no output channels", 1, 3, 3, 0, [2]int{2, 2}, [2]int{}, [2]int{}, "0 output channels"},
		{"empty kernel", 1, 3, 3, 2, [2]int{0, 2}, [2]int{}, [2]int{}, "kernel 0×2"},
		{"negative stride", 1, 3, 3, 2, [2]int{2, 2}, [2]int{-1, 1}, [2]int{}, "stride -1×1"},
		{"negative padding", 1, 3, 3, 2, [2]int{2, 2}, [2]int{}, [2]int{0, -1}, "padding 0×-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := nn.NewConv2d(c.in, c.h, c.w, c.out, c.kernel, c.stride, c.pad)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "nn: conv2d(")

			lit := nn.Conv2d{In: c.in, Out: c.out, H: c.h, W: c.w, Kernel: c.kernel, Stride: c.stride, Padding: c.pad}
			_, err = nn.New(nn.Elementwise{Size: max(lit.InSize(), 1), Act: nn.Tanh{}}, lit)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "nn: layer 1: conv2d(")
			assert.Contains(t, err.Error(), c.want)
		})
	}

	// A stride that would round a misfit up to one output (−1/2 + 1 = 1
	// in integer division) is still a misfit.
	_, err := nn.NewConv2d(1, 4, 4, 1, [2]int{5, 5}, [2]int{2, 2}, [2]int{})
	assert.ErrorContains(t, err, "kernel 5×5 is larger than the padded input 4×4")
	c, err := nn.NewConv2d(1, 28, 28, 6, [2]int{5, 5}, [2]int{}, [2]int{})
	require.NoError(t, err)
	assert.Equal(t, nn.Conv2d{In: 1, Out: 6, H: 28, W: 28, Kernel: [2]int{5, 5}}, c)
	assert.Equal(t, 6*24*24, c.OutSize())
}

// Init draws the kernels with the fans of a convolution, fan-in In·kh·kw
// and fan-out Out·kh·kw: Glorot's uniform bound before tanh, He's standard
// deviation before relu; biases zero.
func TestConv2dInit(t *testing.T) {
	c := nn.Conv2d{In: 4, Out: 50, H: 6, W: 6, Kernel: [2]int{3, 5}}
	fanIn, fanOut := 4*15, 50*15
	_, q, _ := c.KronShape()
	theta := make([]float64, c.NumParams())
	// NaN everywhere first, so that an entry Init leaves alone shows.
	nans := func() {
		for i := range theta {
			theta[i] = math.NaN()
		}
	}
	weights := func() []float64 {
		var w []float64
		for o := 0; o < c.Out; o++ {
			assert.Zero(t, theta[o*q+q-1], "bias of channel %d", o)
			w = append(w, theta[o*q:o*q+q-1]...)
		}
		return w
	}

	nans()
	c.Init(theta, nn.Tanh{}, rand.New(rand.NewPCG(4, 4)))
	lim := math.Sqrt(6 / float64(fanIn+fanOut))
	w := weights()
	big := 0.0
	for _, v := range w {
		big = max(big, math.Abs(v))
	}
	assert.LessOrEqual(t, big, lim)
	// 3000 uniform draws: the largest magnitude is within 1% of the bound
	// with probability 1 − 0.99^3000.
	assert.Greater(t, big, 0.99*lim)

	nans()
	c.Init(theta, nn.ReLU{}, rand.New(rand.NewPCG(5, 5)))
	w = weights()
	var s2 float64
	for _, v := range w {
		s2 += v * v
	}
	std, want := math.Sqrt(s2/float64(len(w))), math.Sqrt(2/float64(fanIn))
	// The sample standard deviation of 3000 normal draws has a relative
	// standard error of 1/sqrt(2·3000) ≈ 1.3%: allow five.
	assert.InEpsilon(t, want, std, 0.065)
}

// One layer value used by several goroutines at once (one tape each)
// gives each the numbers it gives alone: the work space is never shared.
func TestConv2dConcurrent(t *testing.T) {
	c := convCases[2].conv
	rng := rand.New(rand.NewPCG(6, 6))
	theta := randSlice(c.NumParams(), rng)
	const workers, n = 8, 5
	xs := make([]*mat.Dense, workers)
	want := make([]*mat.Dense, workers)
	for i := range xs {
		xs[i] = randDense(n, c.InSize(), rng)
		want[i] = naiveConv(c, theta, xs[i])
	}
	got := make([]*mat.Dense, workers)
	var wg sync.WaitGroup
	for i := range xs {
		wg.Go(func() {
			got[i] = mat.NewDense(n, c.OutSize(), nil)
			for range 20 {
				c.Forward(got[i], xs[i], theta)
			}
		})
	}
	wg.Wait()
	for i := range xs {
		assert.True(t, mat.EqualApprox(got[i], want[i], 1e-13), "worker %d", i)
	}
}

func randSlice(n int, rng *rand.Rand) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func randDense(r, c int, rng *rand.Rand) *mat.Dense {
	return mat.NewDense(r, c, randSlice(r*c, rng))
}

// Inputs, gradients and destinations that are views into wider matrices
// (stride > columns, as a tape's per-sample gradients are column blocks of
// one N×P matrix) give the numbers their compact copies give.
func TestConv2dStridedViews(t *testing.T) {
	c := convCases[1].conv
	rng := rand.New(rand.NewPCG(9, 9))
	const n = 3
	P := c.NumParams()
	wide := func(r, cols int) *mat.Dense {
		return randDense(r, cols+5, rng).Slice(0, r, 2, 2+cols).(*mat.Dense)
	}
	theta := randSlice(P, rng)
	x, g := wide(n, c.InSize()), wide(n, c.OutSize())
	xc, gc := mat.DenseCopyOf(x), mat.DenseCopyOf(g)

	y, yc := wide(n, c.OutSize()), mat.NewDense(n, c.OutSize(), nil)
	c.Forward(y, x, theta)
	c.Forward(yc, xc, theta)
	assert.True(t, mat.Equal(y, yc), "Forward")

	dx, dxc := wide(n, c.InSize()), mat.NewDense(n, c.InSize(), nil)
	dth, dthc := make([]float64, P), make([]float64, P)
	c.VJP(dx, dth, x, y, theta, g)
	c.VJP(dxc, dthc, xc, yc, theta, gc)
	assert.True(t, mat.Equal(dx, dxc), "VJP input")
	assert.Equal(t, dthc, dth, "VJP parameters")

	per, perc := wide(n, P), mat.NewDense(n, P, nil)
	c.PerSampleVJP(per, x, y, theta, g)
	c.PerSampleVJP(perc, xc, yc, theta, gc)
	assert.True(t, mat.Equal(per, perc), "PerSampleVJP")

	ag, agc := c.KronGrads(nil, g), c.KronGrads(nil, gc)
	assert.True(t, mat.Equal(ag, agc), "KronGrads")
}
