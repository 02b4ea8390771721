package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
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
// whose per-sample gradient is Σ_r g_r ā_rᵀ. The products run on
// internal/gemm: its correlation kernels for stride 1 where the CPU has
// them, matrix products of the unfolded patches (im2col) otherwise.
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
	w, put := c.work(g, n, true)
	defer put()
	dr := dst.RawMatrix()
	for i0 := 0; i0 < n; i0 += w.s {
		s := min(w.s, n-i0)
		col := w.patches(c, g, x.RawMatrix(), i0, s, true)
		transposeTo(blas64.General{Rows: s * R, Cols: q, Stride: dr.Stride, Data: dr.Data[i0*R*dr.Stride:]}, col, false)
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

// A convolution of stride 1 (the common one) runs on internal/gemm's
// correlation kernels where the CPU has them (AVX-512): the outputs and the
// weight gradient come from the input itself, zero-padded if need be,
// without unfolding its patches, whose copying took longer than the
// products (the first LeNet convolution's passes were 4.3 times as fast
// this way: BenchmarkConv2dPaths, whose unfolding path is the one of
// noDirect). The input gradient, a transposed convolution, is the
// correlation inputCorr where that pays (correlatesInput), and otherwise a
// product Wᵀg per sample whose columns go back to the input entries they
// came from (col2im).
//
// Otherwise the products unfold the patches of a block of samples side by
// side into one q×(S·R) matrix, sample k of the block in columns
// [k·R, (k+1)·R) (im2col, with a row of ones for the bias), and keep it as
// the operand internal/gemm reads in place (A), the small one (θ, or a
// sample's output gradient) being the one it packs (B). An output is then
// one product for the whole block, S·R locations by Out channels,
// transposed into the samples' rows; a parameter gradient sums the products
// of each sample's q×R patches by its R×Out gradient into q×Out.
// Multiplying the other way round packs the whole patch matrix for one or
// two row tiles of output; the forward and backward passes of
// BenchmarkConv2dLeNet2 took 1.25× as long that way. A block of about
// blockFloats patch entries stays in the L2 cache: the whole batch at once
// (15 MB for the first layer of the LeNet-style benchmark network) made its
// forward product about half as fast, and a block of S = 3 samples made the
// second layer's 1.3 times as fast as one sample at a time, whose 64
// locations fill a sixth row tile to a third (the conv shapes of
// internal/gemm's BenchmarkGemm).
const blockFloats = 1 << 15

// noDirect turns the correlation kernels off, so that the tests cover the
// unfolding path on CPUs that have them.
var noDirect bool

// direct reports whether the products use the correlation kernels.
func (c Conv2d) direct(g window) bool {
	return g.sh == 1 && g.sw == 1 && gemm.HasCorr() && !noDirect
}

// corr returns the correlation of the zero-padded input.
func (c Conv2d) corr(g window) gemm.Corr {
	return gemm.Corr{C: c.In, H: c.H + 2*g.ph, W: c.W + 2*g.pw, KH: g.kh, KW: g.kw}
}

// correlatesInput reports whether the input gradient, on the correlation
// kernels, is the correlation inputCorr rather than a product and col2im:
// when the correlation, which multiplies the zeros of its padding and fills
// tiles of 6 input channels, does at most corrInputWaste times the products
// of the other. Both LeNet convolutions are unfolded: the first (1 input
// channel, 24×24 locations of 28×28 inputs) would correlate 8.2 times the
// products and took 1.8 times as long that way, the second (6 channels,
// 8×8 locations of 12×12) 2.25 times and as long, within the noise (0.9–1.1
// times); 6 channels of 16×16 with 3×3 kernels and padding 1 (1.27 times)
// took half the time correlated (BenchmarkConv2dInputGrad).
func (c Conv2d) correlatesInput(g window) bool {
	if !c.direct(g) {
		return false
	}
	cg := c.inputCorr(g)
	tiles := (c.In + 5) / 6 * 6
	return float64(tiles*(cg.H-g.kh+1)*(cg.W-g.kw+1)) <= corrInputWaste*float64(c.In*g.positions())
}

// corrInputWaste is the most products the correlation for the input
// gradient may spend per product of the unfolded one (see correlatesInput;
// a variable for BenchmarkConv2dInputGrad).
var corrInputWaste = 2.0

// inputCorr returns the correlation that gives the input gradient (of the
// zero-padded input): of the output gradient zero-padded by the kernel's
// size less one on each side, with the kernels flipped and their input and
// output channels swapped,
//
//	dx[c, u, v] = Σ_{o,i,j} W[o, c, kh−1−i, kw−1−j]·g[o, u+i−kh+1, v+j−kw+1].
func (c Conv2d) inputCorr(g window) gemm.Corr {
	return gemm.Corr{C: c.Out, H: g.oh + 2*(g.kh-1), W: g.ow + 2*(g.kw-1), KH: g.kh, KW: g.kw}
}

// work is the per-call work space. Unfolding: the patch matrix col
// (q×(S·R)) of a block of S samples, the output of a block before it is
// transposed, t ((S·R)×Out), a parameter gradient before it is transposed,
// acc (q×Out), and the patches of one sample's input gradient, dcol
// ((q−1)×R). Correlating: a block of S zero-padded inputs, pad; the
// flipped kernels of the input gradient, flip; a block of Sg output
// gradients zero-padded for it, gpad, and its outputs before they lose the
// input's padding, gout.
type work struct {
	s, sg                  int
	col, t, acc, dcol, pad []float64
	flip, gpad, gout       []float64
}

// work returns work space for a batch of n samples, for the products that
// unfold patches if unfold is true and for the correlation kernels
// otherwise, and the function that gives it back.
func (c Conv2d) work(g window, n int, unfold bool) (work, func()) {
	R, q, p := g.positions(), c.q(), c.Out
	var w work
	var sizes [8]int
	if unfold {
		w.s = max(1, min(n, blockFloats/(q*R)))
		sizes = [8]int{q * w.s * R, w.s * R * p, q * p, (q - 1) * R}
	} else {
		cx, cg := c.corr(g), c.inputCorr(g)
		perX, perG := cx.C*cx.H*cx.W, cg.C*cg.H*cg.W
		w.s = max(1, min(n, blockFloats/perX))
		if g.ph > 0 || g.pw > 0 {
			sizes[4] = w.s * perX
		}
		if c.correlatesInput(g) {
			w.sg = max(1, min(n, blockFloats/perG))
			sizes[5], sizes[6] = c.In*cg.C*g.kh*g.kw, w.sg*perG
			if g.ph > 0 || g.pw > 0 {
				sizes[7] = w.sg * perX
			}
		} else {
			sizes[3] = (q - 1) * R
		}
	}
	total := 0
	for _, sz := range sizes {
		total += sz
	}
	buf, put := scratch(total)
	parts := [8]*[]float64{&w.col, &w.t, &w.acc, &w.dcol, &w.pad, &w.flip, &w.gpad, &w.gout}
	for k, sz := range sizes {
		*parts[k], buf = buf[:sz:sz], buf[sz:]
	}
	return w, put
}

// patches unfolds the patches of the s samples of x from row i0 into w.col
// and returns them as a q×(s·R) matrix ((q−1)×(s·R) without the row of
// ones when ones is false, for a direction or gradient in x).
func (w work) patches(c Conv2d, g window, x blas64.General, i0, s int, ones bool) blas64.General {
	R, q := g.positions(), c.q()
	ld := s * R
	for k := 0; k < s; k++ {
		g.im2col(w.col[k*R:], ld, x.Data[(i0+k)*x.Stride:][:g.inSize()])
	}
	rows := q - 1
	if ones {
		last := w.col[rows*ld : q*ld]
		for r := range last {
			last[r] = 1
		}
		rows = q
	}
	return blas64.General{Rows: rows, Cols: ld, Stride: ld, Data: w.col[:rows*ld]}
}

// inputs calls f with the rows of m (x, or a direction or gradient in x)
// as the correlation kernels read them: m's own rows when there is no
// padding, else blocks of rows, from row i0, copied zero-padded into w.pad.
func (w work) inputs(c Conv2d, g window, mr blas64.General, f func(i0 int, x blas64.General)) {
	if len(w.pad) == 0 {
		f(0, mr)
		return
	}
	cg := c.corr(g)
	for i0 := 0; i0 < mr.Rows; i0 += w.s {
		s := min(w.s, mr.Rows-i0)
		f(i0, padPlanes(w.pad, blockRows(mr, i0, s), c.In, c.H, c.W, cg.H, cg.W, g.ph, g.pw))
	}
}

// padPlanes stores the rows of m, each of planes h×w planes, in dst as
// planes of hp×wp whose entries [top, top+h)×[left, left+w) they fill, the
// others zero, and returns them, a row per row of m.
func padPlanes(dst []float64, m blas64.General, planes, h, w, hp, wp, top, left int) blas64.General {
	per := planes * hp * wp
	dst = dst[:m.Rows*per]
	clear(dst)
	for k := 0; k < m.Rows; k++ {
		row := m.Data[k*m.Stride:]
		for ch := 0; ch < planes; ch++ {
			for a := 0; a < h; a++ {
				copy(dst[k*per+(ch*hp+a+top)*wp+left:][:w], row[(ch*h+a)*w:][:w])
			}
		}
	}
	return blas64.General{Rows: m.Rows, Cols: per, Stride: per, Data: dst}
}

// blockRows returns rows [i0, i0+n) of m.
func blockRows(m blas64.General, i0, n int) blas64.General {
	return blas64.General{Rows: n, Cols: m.Cols, Stride: m.Stride, Data: m.Data[i0*m.Stride:]}
}

// weightGrad stores in d (laid out as θ), or adds to it when add is true,
// the parameter gradient Σ_i Σ_r g_r ā_rᵀ for the rows of x (the input, or
// a direction in it) and g: the weights' columns only, or with the bias
// when bias is true.
func (c Conv2d) weightGrad(geo window, w work, direct bool, d []float64, add, bias bool, x, g blas64.General) {
	R, q := geo.positions(), c.q()
	if direct {
		w.inputs(c, geo, x, func(i0 int, xb blas64.General) {
			gemm.CorrGrad(c.corr(geo), d, q, c.Out, add || i0 > 0, blockRows(g, i0, xb.Rows), xb)
		})
		if bias {
			for o := 0; o < c.Out; o++ {
				s := 0.0
				for i := 0; i < g.Rows; i++ {
					s += floats.Sum(g.Data[i*g.Stride+o*R : i*g.Stride+(o+1)*R])
				}
				if add {
					s += d[o*q+q-1]
				}
				d[o*q+q-1] = s
			}
		}
		return
	}
	rows := q - 1
	if bias {
		rows = q
	}
	acc := general(w.acc, rows, c.Out)
	clear(acc.Data)
	for i0 := 0; i0 < x.Rows; i0 += w.s {
		s := min(w.s, x.Rows-i0)
		col := w.patches(c, geo, x, i0, s, bias)
		for k := 0; k < s; k++ {
			gemm.Gemm(blas.NoTrans, blas.Trans, 1, sample(col, k, R), c.sampleOut(g, i0+k, R), 1, acc)
		}
	}
	transposeTo(blas64.General{Rows: c.Out, Cols: rows, Stride: q, Data: d}, acc, add)
}

// sample returns the patches of sample k of a block, a view of col.
func sample(col blas64.General, k, R int) blas64.General {
	return blas64.General{Rows: col.Rows, Cols: R, Stride: col.Stride, Data: col.Data[k*R:]}
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

// outputs stores the block's outputs t ((s·R)×Out, by location) in rows
// i0… of y, channel-major.
func (c Conv2d) outputs(y *mat.Dense, i0 int, t blas64.General, R int) {
	yr := y.RawMatrix()
	for k := 0; k < t.Rows/R; k++ {
		transposeTo(c.sampleOut(yr, i0+k, R), general(t.Data[k*R*c.Out:], R, c.Out), false)
	}
}

// Forward stores Θ ā_r at every output location of every sample in y.
func (c Conv2d) Forward(y, x *mat.Dense, theta []float64) {
	g, n := c.begin(x, y, "an output", theta)
	direct := c.direct(g)
	w, put := c.work(g, n, !direct)
	defer put()
	if direct {
		w.inputs(c, g, x.RawMatrix(), func(i0 int, xb blas64.General) {
			gemm.CorrForward(c.corr(g), blockRows(y.RawMatrix(), i0, xb.Rows), theta, c.q(), c.Out, true, false, xb)
		})
		return
	}
	R := g.positions()
	for i0 := 0; i0 < n; i0 += w.s {
		s := min(w.s, n-i0)
		t := general(w.t, s*R, c.Out)
		gemm.Gemm(blas.Trans, blas.Trans, 1, w.patches(c, g, x.RawMatrix(), i0, s, true), c.theta(theta), 0, t)
		c.outputs(y, i0, t, R)
	}
}

// JVP stores W (patches of dx) + dΘ ā_r at every output location in dy.
func (c Conv2d) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	g, n := c.begin(x, dy, "an output direction", theta)
	c.checkIn(dx, n, "an input direction")
	c.checkTheta(dtheta, "dθ")
	if dx == nil && dtheta == nil {
		zero(dy.RawMatrix())
		return
	}
	direct := c.direct(g)
	w, put := c.work(g, n, !direct)
	defer put()
	if direct {
		if dx != nil {
			w.inputs(c, g, dx.RawMatrix(), func(i0 int, xb blas64.General) {
				gemm.CorrForward(c.corr(g), blockRows(dy.RawMatrix(), i0, xb.Rows), theta, c.q(), c.Out, false, false, xb)
			})
		}
		if dtheta != nil {
			w.inputs(c, g, x.RawMatrix(), func(i0 int, xb blas64.General) {
				gemm.CorrForward(c.corr(g), blockRows(dy.RawMatrix(), i0, xb.Rows), dtheta, c.q(), c.Out, true, dx != nil, xb)
			})
		}
		return
	}
	R := g.positions()
	for i0 := 0; i0 < n; i0 += w.s {
		s := min(w.s, n-i0)
		t := general(w.t, s*R, c.Out)
		beta := 0.0
		if dx != nil {
			gemm.Gemm(blas.Trans, blas.Trans, 1, w.patches(c, g, dx.RawMatrix(), i0, s, false), c.weights(theta), 0, t)
			beta = 1
		}
		if dtheta != nil {
			gemm.Gemm(blas.Trans, blas.Trans, 1, w.patches(c, g, x.RawMatrix(), i0, s, true), c.theta(dtheta), beta, t)
		}
		c.outputs(dy, i0, t, R)
	}
}

// VJP stores the adjoint of the patches of Wᵀ g_i in dx (the input
// gradient, through col2im) and Σ_i Σ_r g_r ā_rᵀ in dθ.
func (c Conv2d) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	geo, n := c.begin(x, g, "an output gradient", theta)
	c.checkIn(dx, n, "an input gradient")
	c.checkTheta(dtheta, "dθ")
	direct := c.direct(geo)
	w, put := c.work(geo, n, !direct)
	defer put()
	gr := g.RawMatrix()
	if dtheta != nil {
		c.weightGrad(geo, w, direct, dtheta, false, true, x.RawMatrix(), gr)
	}
	if dx != nil {
		c.inputGrad(geo, w, dx.RawMatrix(), false, theta, gr)
	}
}

// inputGrad stores in dx, or adds to it when add is true, the input
// gradient of the output gradients g through the weights of θ: a
// transposed convolution. On the correlation kernels it is the correlation
// inputCorr; unfolding, it is Wᵀ g_i per sample, whose columns col2im sends
// back to the input entries they came from.
func (c Conv2d) inputGrad(geo window, w work, dx blas64.General, add bool, theta []float64, g blas64.General) {
	R, q := geo.positions(), c.q()
	if !c.correlatesInput(geo) {
		dcol := general(w.dcol, q-1, R)
		for i := 0; i < dx.Rows; i++ {
			row := dx.Data[i*dx.Stride:][:geo.inSize()]
			if !add {
				clear(row)
			}
			gemm.Gemm(blas.Trans, blas.NoTrans, 1, c.weights(theta), c.sampleOut(g, i, R), 0, dcol)
			geo.col2imAdd(row, dcol.Data, R)
		}
		return
	}
	kh, kw := geo.kh, geo.kw
	cg, cx := c.inputCorr(geo), c.corr(geo)
	k := c.Out * kh * kw
	for ch := 0; ch < c.In; ch++ {
		for o := 0; o < c.Out; o++ {
			for i := 0; i < kh; i++ {
				for j := 0; j < kw; j++ {
					w.flip[ch*k+(o*kh+i)*kw+j] = theta[o*q+(ch*kh+kh-1-i)*kw+kw-1-j]
				}
			}
		}
	}
	perX := cx.C * cx.H * cx.W
	for i0 := 0; i0 < dx.Rows; i0 += w.sg {
		s := min(w.sg, dx.Rows-i0)
		gb := padPlanes(w.gpad, blockRows(g, i0, s), c.Out, geo.oh, geo.ow, cg.H, cg.W, kh-1, kw-1)
		if len(w.gout) == 0 {
			gemm.CorrForward(cg, blockRows(dx, i0, s), w.flip, k, c.In, false, add, gb)
			continue
		}
		// The gradient of the padded input, whose padding is dropped.
		out := blas64.General{Rows: s, Cols: perX, Stride: perX, Data: w.gout[:s*perX]}
		gemm.CorrForward(cg, out, w.flip, k, c.In, false, false, gb)
		for k2 := 0; k2 < s; k2++ {
			row := dx.Data[(i0+k2)*dx.Stride:]
			for ch := 0; ch < c.In; ch++ {
				for a := 0; a < c.H; a++ {
					src := out.Data[k2*perX+(ch*cx.H+a+geo.ph)*cx.W+geo.pw:][:c.W]
					dst := row[(ch*c.H+a)*c.W:][:c.W]
					if add {
						floats.Add(dst, src)
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
}

// PerSampleVJP stores Σ_r g_r ā_rᵀ of sample i, flattened row-major like
// θ, in row i of dst.
func (c Conv2d) PerSampleVJP(dst *mat.Dense, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	geo, n := c.begin(x, g, "an output gradient", theta)
	c.checkShape(dst, n, c.NumParams(), "per-sample gradients")
	direct := c.direct(geo)
	w, put := c.work(geo, n, !direct)
	defer put()
	xr, gr, dr := x.RawMatrix(), g.RawMatrix(), dst.RawMatrix()
	for i := 0; i < n; i++ {
		d := dr.Data[i*dr.Stride : i*dr.Stride+c.NumParams()]
		c.weightGrad(geo, w, direct, d, false, true, blockRows(xr, i, 1), blockRows(gr, i, 1))
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
	direct := c.direct(geo)
	w, put := c.work(geo, n, !direct)
	defer put()
	gr := g.RawMatrix()
	if doX {
		c.inputGrad(geo, w, rdx.RawMatrix(), true, dtheta, gr)
	}
	if doTheta {
		c.weightGrad(geo, w, direct, rdtheta, true, false, dx.RawMatrix(), gr)
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
