package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/gemm"
)

// Conv2d is the two-dimensional convolution (cross-correlation, as in
// PyTorch's nn.Conv2d with dilation 1 and one group) of an In×H×W input
// with Out kernels of size In×Kernel[0]×Kernel[1], plus a bias per output
// channel. A sample's input row is its tensor flattened C×H×W row-major,
// its output row the Out×H'×W' result flattened the same way, with
//
//	H' = ⌊(H + 2·Padding[0] − Kernel[0]) / Stride[0]⌋ + 1
//
// and W' likewise. Its parameters are, for each output channel o, the
// kernel in PyTorch's (C, kh, kw) order followed by the bias: the
// row-major Out × (In·kh·kw + 1) matrix Θ = [W | b], the layout of Dense.
//
// With the augmented patch ā_r (the q = In·kh·kw inputs the kernel meets
// at output location r, zero in the padding, then a 1), the output at r is
// s_r = Θ ā_r: the layer is a Kronecker layer with R = H'·W' positions,
// whose per-sample gradient is Σ_r g_r ā_rᵀ. All products unfold the
// patches of one sample at a time into a q×R matrix (im2col) and multiply
// it with internal/gemm.
//
// Build one with NewConv2d, or as a literal that nn.New checks (Validate).
type Conv2d struct {
	In, Out int    // input and output channels
	H, W    int    // input height and width
	Kernel  [2]int // kernel height and width
	Stride  [2]int // stride in height and width; 0 means 1
	Padding [2]int // zero padding added to each side, in height and width
}

var (
	_ Kronecker = Conv2d{}
	_ Validator = Conv2d{}
)

// NewConv2d returns the convolution of an in×h×w input to out channels,
// with the given kernel, stride and padding (height, width), or an error
// naming the sizes when they do not fit.
func NewConv2d(in, h, w, out int, kernel, stride, padding [2]int) (Conv2d, error) {
	c := Conv2d{In: in, Out: out, H: h, W: w, Kernel: kernel, Stride: stride, Padding: padding}
	if err := c.Validate(); err != nil {
		return Conv2d{}, fmt.Errorf("nn: %w", err)
	}
	return c, nil
}

func (c Conv2d) geom() window {
	return newWindow(c.In, c.H, c.W, c.Kernel, c.Stride, c.Padding, [2]int{1, 1})
}

// Validate returns an error naming the sizes when the kernel is larger
// than the padded input or a size is not positive.
func (c Conv2d) Validate() error {
	if c.Out <= 0 {
		return fmt.Errorf("%v: %d output channels; sizes must be positive", c, c.Out)
	}
	return c.geom().check(c.String())
}

// String describes the layer in PyTorch's terms.
func (c Conv2d) String() string {
	g := c.geom()
	return fmt.Sprintf("conv2d(%d×%d×%d → %d×%d×%d, kernel %d×%d, stride %d×%d, padding %d×%d)",
		c.In, c.H, c.W, c.Out, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw)
}

// OutShape returns the output's channels, height and width.
func (c Conv2d) OutShape() (channels, height, width int) {
	g := c.geom()
	return c.Out, g.oh, g.ow
}

// InSize returns In·H·W.
func (c Conv2d) InSize() int { return c.In * c.H * c.W }

// OutSize returns Out·H'·W'.
func (c Conv2d) OutSize() int { return c.Out * c.geom().positions() }

// NumParams returns Out·(In·kh·kw + 1).
func (c Conv2d) NumParams() int { return c.Out * c.q() }

// q returns the length of an augmented patch, In·kh·kw + 1.
func (c Conv2d) q() int { return c.In*c.Kernel[0]*c.Kernel[1] + 1 }

// KronShape returns p = Out, q = In·kh·kw + 1 and R = H'·W' positions.
func (c Conv2d) KronShape() (p, q, positions int) {
	return c.Out, c.q(), c.geom().positions()
}

// KronInputs returns the (N·R)×q matrix of augmented patches: row n·R + r
// is ā_r of sample n.
func (c Conv2d) KronInputs(dst, x *mat.Dense) *mat.Dense {
	g := c.geom()
	n := c.rows(x)
	R, q := g.positions(), c.q()
	dst = ensure(dst, n*R, q)
	col, put := scratch(q * R)
	defer put()
	xr, dr := x.RawMatrix(), dst.RawMatrix()
	for i := 0; i < n; i++ {
		c.patches(g, col, xr.Data[i*xr.Stride:])
		transposeTo(blas64.General{Rows: R, Cols: q, Stride: dr.Stride, Data: dr.Data[i*R*dr.Stride:]}, general(col, q, R), false)
	}
	return dst
}

// KronGrads returns the (N·R)×Out matrix whose row n·R + r is the gradient
// g_r at output location r of sample n, rearranged from g (N×(Out·R),
// channel-major).
func (c Conv2d) KronGrads(dst, g *mat.Dense) *mat.Dense {
	R := c.geom().positions()
	n, cols := g.Dims()
	if cols != c.Out*R {
		panic(fmt.Sprintf("nn: %v given a gradient of %d columns, want %d", c, cols, c.Out*R))
	}
	dst = ensure(dst, n*R, c.Out)
	gr, dr := g.RawMatrix(), dst.RawMatrix()
	for i := 0; i < n; i++ {
		transposeTo(blas64.General{Rows: R, Cols: c.Out, Stride: dr.Stride, Data: dr.Data[i*R*dr.Stride:]}, c.sampleOut(gr, i, R), false)
	}
	return dst
}

// Init draws the kernels as Dense.Init draws weights, with fan-in In·kh·kw
// and fan-out Out·kh·kw (PyTorch's fans for a convolution): uniform
// Glorot before identity, tanh and sigmoid, normal He before relu, elu,
// softplus and gelu; the biases are zero.
func (c Conv2d) Init(theta []float64, next Activation, rng *rand.Rand) {
	c.checkParams(theta, "θ")
	k := c.Kernel[0] * c.Kernel[1]
	initAffine(theta, c.Out, c.q()-1, c.In*k, c.Out*k, next, rng)
}

func (c Conv2d) checkParams(theta []float64, what string) {
	if len(theta) != c.NumParams() {
		panic(fmt.Sprintf("nn: %v has %d parameters, %s has %d", c, c.NumParams(), what, len(theta)))
	}
}

// rows panics unless x has InSize columns, and returns its rows.
func (c Conv2d) rows(x *mat.Dense) int {
	n, cols := x.Dims()
	if cols != c.InSize() {
		panic(fmt.Sprintf("nn: %v given an input of %d columns, want %d", c, cols, c.InSize()))
	}
	return n
}

// begin panics unless x is N×InSize, out N×OutSize and θ NumParams long,
// and returns the geometry and N.
func (c Conv2d) begin(x, out *mat.Dense, what string, theta []float64) (window, int) {
	n := c.rows(x)
	c.checkShape(out, n, c.OutSize(), what)
	c.checkParams(theta, "θ")
	return c.geom(), n
}

// checkIn panics unless m is nil or n×InSize.
func (c Conv2d) checkIn(m *mat.Dense, n int, what string) {
	if m != nil {
		c.checkShape(m, n, c.InSize(), what)
	}
}

// checkTheta panics unless v is nil or NumParams long.
func (c Conv2d) checkTheta(v []float64, what string) {
	if v != nil {
		c.checkParams(v, what)
	}
}

// checkShape panics unless m is r×cols.
func (c Conv2d) checkShape(m *mat.Dense, r, cols int, what string) {
	if mr, mc := m.Dims(); mr != r || mc != cols {
		panic(fmt.Sprintf("nn: %v given %s of %d×%d, want %d×%d", c, what, mr, mc, r, cols))
	}
}

// patches stores sample x's augmented patches in col (q×R): im2col
// followed by a row of ones.
func (c Conv2d) patches(g window, col, x []float64) {
	R := g.positions()
	g.im2col(col, x[:g.inSize()])
	last := col[(c.q()-1)*R : c.q()*R]
	for r := range last {
		last[r] = 1
	}
}

// views of θ (Out×q, or its Out×(q−1) weights) and of row i of an
// N×(Out·R) matrix as Out×R.
func (c Conv2d) theta(theta []float64) blas64.General {
	return blas64.General{Rows: c.Out, Cols: c.q(), Stride: c.q(), Data: theta}
}

func (c Conv2d) weights(theta []float64) blas64.General {
	return blas64.General{Rows: c.Out, Cols: c.q() - 1, Stride: c.q(), Data: theta}
}

func (c Conv2d) sampleOut(m blas64.General, i, R int) blas64.General {
	return blas64.General{Rows: c.Out, Cols: R, Stride: R, Data: m.Data[i*m.Stride : i*m.Stride+c.Out*R]}
}

// The products keep the patch matrix, the large operand, as the one
// internal/gemm reads in place (A) and the small one (θ, or a sample's
// output gradient) as the one it packs (B), and transpose the small
// results: multiplying the other way round packs the whole patch matrix
// for one or two row tiles of output, and the forward and backward passes
// of BenchmarkConv2dLeNet2 took 1.25× as long that way (those of
// BenchmarkConv2dLeNet1 about as long).

// work is the per-call work space: the patch matrix col (q×R), an output
// before it is transposed, tr (R×p), and a parameter gradient before it is
// transposed, acc (q×p).
type work struct {
	col, tr, acc []float64
}

func (c Conv2d) work(g window) (work, func()) {
	R, q, p := g.positions(), c.q(), c.Out
	nt := R * p
	buf, put := scratch(q*R + nt + q*p)
	return work{col: buf[:q*R], tr: buf[q*R : q*R+nt], acc: buf[q*R+nt:]}, put
}

// general returns the r×c matrix stored contiguously at the start of data.
func general(data []float64, r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: data[:r*c]}
}

// transposeTo stores srcᵀ in dst, or adds it when add is true.
func transposeTo(dst, src blas64.General, add bool) {
	for i := 0; i < src.Rows; i++ {
		row := src.Data[i*src.Stride : i*src.Stride+src.Cols]
		if add {
			for j, v := range row {
				dst.Data[j*dst.Stride+i] += v
			}
			continue
		}
		for j, v := range row {
			dst.Data[j*dst.Stride+i] = v
		}
	}
}

// Forward stores Θ ā_r at every output location of every sample in y.
func (c Conv2d) Forward(y, x *mat.Dense, theta []float64) {
	g, n := c.begin(x, y, "an output", theta)
	R, q := g.positions(), c.q()
	w, put := c.work(g)
	defer put()
	xr, yr := x.RawMatrix(), y.RawMatrix()
	t := general(w.tr, R, c.Out)
	for i := 0; i < n; i++ {
		c.patches(g, w.col, xr.Data[i*xr.Stride:])
		gemm.Gemm(blas.Trans, blas.Trans, 1, general(w.col, q, R), c.theta(theta), 0, t)
		transposeTo(c.sampleOut(yr, i, R), t, false)
	}
}

// JVP stores W (patches of dx) + dΘ ā_r at every output location in dy.
func (c Conv2d) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	g, n := c.begin(x, dy, "an output direction", theta)
	c.checkIn(dx, n, "an input direction")
	c.checkTheta(dtheta, "dθ")
	dyr := dy.RawMatrix()
	if dx == nil && dtheta == nil {
		zero(dyr)
		return
	}
	R, q := g.positions(), c.q()
	w, put := c.work(g)
	defer put()
	xr := x.RawMatrix()
	t := general(w.tr, R, c.Out)
	for i := 0; i < n; i++ {
		beta := 0.0
		if dx != nil {
			dxr := dx.RawMatrix()
			g.im2col(w.col, dxr.Data[i*dxr.Stride:][:g.inSize()])
			gemm.Gemm(blas.Trans, blas.Trans, 1, general(w.col, q-1, R), c.weights(theta), 0, t)
			beta = 1
		}
		if dtheta != nil {
			c.patches(g, w.col, xr.Data[i*xr.Stride:])
			gemm.Gemm(blas.Trans, blas.Trans, 1, general(w.col, q, R), c.theta(dtheta), beta, t)
		}
		transposeTo(c.sampleOut(dyr, i, R), t, false)
	}
}

// VJP stores the adjoint of the patches of Wᵀ g_i in dx (the input
// gradient, through col2im) and Σ_i Σ_r g_r ā_rᵀ in dθ.
func (c Conv2d) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	geo, n := c.begin(x, g, "an output gradient", theta)
	c.checkIn(dx, n, "an input gradient")
	c.checkTheta(dtheta, "dθ")
	R, q := geo.positions(), c.q()
	w, put := c.work(geo)
	defer put()
	xr, gr := x.RawMatrix(), g.RawMatrix()
	acc := general(w.acc, q, c.Out)
	clear(acc.Data)
	for i := 0; i < n; i++ {
		gi := c.sampleOut(gr, i, R)
		if dtheta != nil {
			c.patches(geo, w.col, xr.Data[i*xr.Stride:])
			gemm.Gemm(blas.NoTrans, blas.Trans, 1, general(w.col, q, R), gi, 1, acc)
		}
		if dx != nil {
			dxr := dx.RawMatrix()
			row := dxr.Data[i*dxr.Stride:][:geo.inSize()]
			clear(row)
			c.backInput(geo, w, row, theta, gi)
		}
	}
	if dtheta != nil {
		transposeTo(c.theta(dtheta), acc, false)
	}
}

// backInput adds to dx (one sample's input row) the input gradient of the
// output gradient gi (Out×R) through weights θ: col2im of Wᵀ gi.
func (c Conv2d) backInput(g window, w work, dx, theta []float64, gi blas64.General) {
	dcol := general(w.col, c.q()-1, g.positions())
	gemm.Gemm(blas.Trans, blas.NoTrans, 1, c.weights(theta), gi, 0, dcol)
	g.col2imAdd(dx, dcol.Data)
}

// PerSampleVJP stores Σ_r g_r ā_rᵀ of sample i, flattened row-major like
// θ, in row i of dst.
func (c Conv2d) PerSampleVJP(dst *mat.Dense, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	geo, n := c.begin(x, g, "an output gradient", theta)
	c.checkShape(dst, n, c.NumParams(), "per-sample gradients")
	R, q := geo.positions(), c.q()
	w, put := c.work(geo)
	defer put()
	xr, gr, dr := x.RawMatrix(), g.RawMatrix(), dst.RawMatrix()
	acc := general(w.acc, q, c.Out)
	for i := 0; i < n; i++ {
		c.patches(geo, w.col, xr.Data[i*xr.Stride:])
		gemm.Gemm(blas.NoTrans, blas.Trans, 1, general(w.col, q, R), c.sampleOut(gr, i, R), 0, acc)
		transposeTo(c.theta(dr.Data[i*dr.Stride:i*dr.Stride+c.NumParams()]), acc, false)
	}
}

// SecondOrderVJP adds the input gradient of g through dW to rdx and
// [Σ_i Σ_r g_r (patch of dx)_rᵀ | 0] to rdθ: the layer is bilinear in
// (W, x), so these mixed terms are its whole residual, as for Dense.
func (c Conv2d) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, x, _ *mat.Dense, theta []float64, g, dx *mat.Dense, dtheta []float64) {
	geo, n := c.begin(x, g, "an output gradient", theta)
	c.checkIn(rdx, n, "an input gradient")
	c.checkIn(dx, n, "an input direction")
	c.checkTheta(dtheta, "dθ")
	c.checkTheta(rdtheta, "rdθ")
	doX := rdx != nil && dtheta != nil
	doTheta := rdtheta != nil && dx != nil
	if !doX && !doTheta {
		return
	}
	R, q := geo.positions(), c.q()
	w, put := c.work(geo)
	defer put()
	gr := g.RawMatrix()
	acc := general(w.acc, q-1, c.Out)
	clear(acc.Data)
	for i := 0; i < n; i++ {
		gi := c.sampleOut(gr, i, R)
		if doX {
			rr := rdx.RawMatrix()
			c.backInput(geo, w, rr.Data[i*rr.Stride:][:geo.inSize()], dtheta, gi)
		}
		if doTheta {
			dxr := dx.RawMatrix()
			geo.im2col(w.col, dxr.Data[i*dxr.Stride:][:geo.inSize()])
			gemm.Gemm(blas.NoTrans, blas.Trans, 1, general(w.col, q-1, R), gi, 1, acc)
		}
	}
	if doTheta {
		transposeTo(c.weights(rdtheta), acc, true)
	}
}

// scratches keeps work space for the patch matrices between calls, as
// internal/gemm keeps its packing space: a channel, so that several
// goroutines (one tape each) never share a buffer, and buffers survive
// garbage collections.
var scratches = make(chan *[]float64, 4)

// scratch returns a work slice of length n and the function that gives it
// back.
func scratch(n int) ([]float64, func()) {
	var b *[]float64
	select {
	case b = <-scratches:
	default:
		b = new([]float64)
	}
	if cap(*b) < n {
		*b = make([]float64, n)
	}
	return (*b)[:n], func() {
		select {
		case scratches <- b:
		default:
		}
	}
}
