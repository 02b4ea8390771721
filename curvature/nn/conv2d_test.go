package nn_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
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

// convNets are small convolutional networks (P ≤ 300) for the model
// checks: conv → tanh → average pooling → flatten → dense as the
// convolutional networks of the literature are built, one with max pooling
// after a strided convolution, and one with two convolutions in a row (the
// second one's input gradient flows back into the first).
func convNets(t *testing.T) map[string]*nn.Network {
	t.Helper()
	must := func(net *nn.Network, err error) *nn.Network {
		t.Helper()
		require.NoError(t, err)
		return net
	}
	tanh := func(n int) nn.Layer { return nn.Elementwise{Size: n, Act: nn.Tanh{}} }
	return map[string]*nn.Network{
		"conv-tanh-avgpool-flatten-dense": must(nn.New(
			nn.Conv2d{In: 2, Out: 3, H: 5, W: 5, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}, // 3×5×5, 57 parameters
			tanh(75),
			nn.AvgPool2d{C: 3, H: 5, W: 5, Kernel: [2]int{2, 2}}, // 3×2×2
			nn.Flatten{C: 3, H: 2, W: 2},
			nn.Dense{In: 12, Out: 3}, // 39 parameters
		)),
		"strided conv-tanh-maxpool-flatten-dense": must(nn.New(
			nn.Conv2d{In: 1, Out: 2, H: 6, W: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, // 2×3×3
			tanh(18),
			nn.MaxPool2d{C: 2, H: 3, W: 3, Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}}, // 2×2×2
			nn.Flatten{C: 2, H: 2, W: 2},
			nn.Dense{In: 8, Out: 4},
		)),
		"conv-tanh-conv-flatten-dense": must(nn.New(
			nn.Conv2d{In: 1, Out: 2, H: 5, W: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}, // 2×5×4
			tanh(40),
			nn.Conv2d{In: 2, Out: 2, H: 5, W: 4, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}, // 2×2×2
			nn.Flatten{C: 2, H: 2, W: 2},
			nn.Dense{In: 8, Out: 3},
		)),
	}
}

// convProblem returns θ from Init with perturbed biases, a batch of n
// random inputs and targets drawn from the model.
func convProblem(net *nn.Network, loss nn.Loss, n int, rng *rand.Rand) ([]float64, curvature.Batch) {
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	for i := range theta {
		theta[i] += 0.2 * rng.NormFloat64()
	}
	x := randDense(n, net.InSize(), rng)
	z := nn.NewTape(net, loss).Forward(theta, x)
	y := mat.NewDense(n, loss.TargetDim(net.OutSize()), nil)
	for i := 0; i < n; i++ {
		loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
	}
	return theta, curvature.Batch{X: x, Y: y}
}

// Convolutional networks pass the model checks of package verify with
// every loss: gradient and Hessian-vector product against finite
// differences, GGN = Fisher through sampled labels, EF − ḡḡᵀ = C,
// symmetry and semi-definiteness of the dense matrices (which package
// curvature builds from matrix-free products here, the networks not being
// MLPs); K-FAC's one-sample exactness is checked for the dense layer and
// skipped for the convolutions, which share weights over R > 1 positions.
func TestConvNetModel(t *testing.T) {
	for name, net := range convNets(t) {
		require.LessOrEqual(t, net.NumParams(), 300)
		for _, loss := range []nn.Loss{nn.SoftmaxCrossEntropy{}, nn.MSE{}, nn.SigmoidBCE{}} {
			t.Run(name+"/"+loss.Name(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, 7))
				theta, b := convProblem(net, loss, 5, rng)
				rep, err := verify.Model(&curvature.Model{Net: net, Loss: loss}, theta, b, rng, &verify.Options{Samples: 4000})
				require.NoError(t, err)
				require.NoError(t, rep.Err(), rep.String())
			})
		}
	}
}

// naivePatch returns the augmented patch ā of conv at output location
// (a, b) of input row x, from the definition: x[c, a·sh + i − ph,
// b·sw + j − pw] in (c, i, j) order, zero in the padding, then 1.
func naivePatch(c nn.Conv2d, x []float64, a, b int) []float64 {
	sh, sw := max(c.Stride[0], 1), max(c.Stride[1], 1)
	var p []float64
	for ch := 0; ch < c.In; ch++ {
		for i := 0; i < c.Kernel[0]; i++ {
			for j := 0; j < c.Kernel[1]; j++ {
				ih, iw := a*sh+i-c.Padding[0], b*sw+j-c.Padding[1]
				v := 0.0
				if ih >= 0 && ih < c.H && iw >= 0 && iw < c.W {
					v = x[(ch*c.H+ih)*c.W+iw]
				}
				p = append(p, v)
			}
		}
	}
	return append(p, 1)
}

// K-FAC, EKFAC and the exact block-diagonal run on a convolutional network
// through the layer interfaces. The convolution's factors are checked
// against their definitions over its R output locations (the "expand"
// variant):
//
//	A = 1/(N·R) Σ_{n,r} ā_{n,r} ā_{n,r}ᵀ   from patches cut by hand,
//	G = 1/N Σ_n Σ_u Σ_r g_{n,r,u} g_{n,r,u}ᵀ
//
// with g_{n,r,u} = J_nᵀ u read at location r, J_n the Jacobian of the
// network output with respect to the convolution's output by central
// differences of the rest of the network, and u the columns of the
// output-Hessian factor S_n (exact) or the gradient at the true label
// (empirical). EKFAC's scales are those of the exact GGN in K-FAC's
// eigenbasis; the block-diagonal keeps the GGN's diagonal blocks.
func TestConvNetApprox(t *testing.T) {
	net := convNets(t)["conv-tanh-avgpool-flatten-dense"]
	loss := nn.SoftmaxCrossEntropy{}
	m := &curvature.Model{Net: net, Loss: loss}
	const n = 4
	rng := rand.New(rand.NewPCG(8, 8))
	theta, b := convProblem(net, loss, n, rng)
	conv := net.Layers[0].(nn.Conv2d)
	p, q, R := conv.KronShape()
	_, oh, ow := conv.OutShape()

	// The hand-made factors.
	A := mat.NewSymDense(q, nil)
	for s := 0; s < n; s++ {
		for a := 0; a < oh; a++ {
			for bb := 0; bb < ow; bb++ {
				A.SymRankOne(A, 1/float64(n*R), mat.NewVecDense(q, naivePatch(conv, b.X.RawRowView(s), a, bb)))
			}
		}
	}
	tail, err := nn.New(net.Layers[1:]...)
	require.NoError(t, err)
	tailTape := nn.NewTape(tail, loss)
	convOut := nn.NewTape(net, loss)
	convOut.Forward(theta, b.X)
	C := net.OutSize()
	factorG := func(vectors func(s int, z []float64) [][]float64) *mat.SymDense {
		G := mat.NewSymDense(p, nil)
		for s := 0; s < n; s++ {
			ys := convOut.Output(0).RawRowView(s)
			jac := mat.NewDense(C, len(ys), nil)
			fd.Jacobian(jac, func(z, y []float64) {
				copy(z, tailTape.Forward(theta[conv.NumParams():], mat.NewDense(1, len(y), y)).RawRowView(0))
			}, ys, &fd.JacobianSettings{Formula: fd.Central})
			for _, u := range vectors(s, convOut.Z().RawRowView(s)) {
				var gu mat.VecDense
				gu.MulVec(jac.T(), mat.NewVecDense(C, u))
				for r := 0; r < R; r++ {
					g := make([]float64, p)
					for o := range g {
						g[o] = gu.AtVec(o*R + r)
					}
					G.SymRankOne(G, 1/float64(n), mat.NewVecDense(p, g))
				}
			}
		}
		return G
	}
	exactG := factorG(func(_ int, z []float64) [][]float64 {
		S := mat.NewDense(C, C, nil)
		loss.Factor(S, z, nil)
		cols := make([][]float64, C)
		for c := range cols {
			cols[c] = mat.Col(nil, c, S)
		}
		return cols
	})
	empiricalG := factorG(func(s int, z []float64) [][]float64 {
		gz := mat.NewDense(1, C, nil)
		loss.Grad(gz, mat.NewDense(1, C, z), mat.NewDense(1, 1, b.Y.RawRowView(s)))
		return [][]float64{gz.RawRowView(0)}
	})

	for _, c := range []struct {
		kind approx.FactorKind
		G    *mat.SymDense
	}{{approx.ExactFactors, exactG}, {approx.EmpiricalFactors, empiricalG}} {
		t.Run("K-FAC "+c.kind.String(), func(t *testing.T) {
			k, err := approx.ModelKFAC(m, theta, b, &approx.KFACSettings{Factors: c.kind})
			require.NoError(t, err)
			require.Equal(t, 2, k.NumBlocks(), "the convolution and the dense layer")
			gotG, gotA := k.Kron(0).Factors()
			assert.Less(t, relDiffSym(gotA, A), 1e-13, "A over the R locations")
			assert.Less(t, relDiffSym(gotG, c.G), 1e-7, "G summed over the R locations")
		})
	}

	ggn, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	t.Run("EKFAC", func(t *testing.T) {
		e, err := approx.ModelEKFAC(m, theta, b, nil)
		require.NoError(t, err)
		want, err := approx.EKFACOf(e.KFAC(), ggn)
		require.NoError(t, err)
		for blk := 0; blk < e.NumBlocks(); blk++ {
			got, _ := e.Block(blk)
			ref, _ := want.Block(blk)
			gs, rs := got.(*approx.EigenKron).Scaling(), ref.(*approx.EigenKron).Scaling()
			assert.Less(t, floats.Distance(gs, rs, 2)/floats.Norm(rs, 2), 1e-10, "block %d", blk)
		}
	})

	for _, part := range []approx.Partition{approx.PerLayer, approx.PerNeuron} {
		t.Run("block-diagonal per "+part.String(), func(t *testing.T) {
			bd, err := approx.ModelBlockDiagonal(m, curvature.GGN, part, theta, b, nil)
			require.NoError(t, err)
			want := 2 // the convolution, the dense layer
			if part == approx.PerNeuron {
				want = p + 3 // each output channel, each output neuron
			}
			require.Equal(t, want, bd.NumBlocks())
			for blk := 0; blk < bd.NumBlocks(); blk++ {
				a, idx := bd.Block(blk)
				ref := mat.NewSymDense(len(idx), nil)
				for i, gi := range idx {
					for j, gj := range idx[i:] {
						ref.SetSym(i, i+j, ggn.At(gi, gj))
					}
				}
				assert.Less(t, relDiffSym(approx.Dense(a), ref), 1e-10, "block %d", blk)
			}
		})
	}
}

// relDiffSym returns ‖a − b‖_F / ‖b‖_F.
func relDiffSym(a, b mat.Symmetric) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / mat.Norm(b, 2)
}
