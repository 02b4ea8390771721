package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// AvgPool2d averages each channel of a C×H×W input over Kernel[0]×Kernel[1]
// windows moved by Stride (no padding), as PyTorch's nn.AvgPool2d with
// ceil_mode off: the output is C×H'×W', H' = ⌊(H − Kernel[0])/Stride[0]⌋ + 1
// and W' likewise, flattened C×H'×W' row-major. It is linear and has no
// parameters, so its second-order term is zero.
type AvgPool2d struct {
	C, H, W int    // input channels, height and width
	Kernel  [2]int // window height and width
	Stride  [2]int // step in height and width; 0 means the kernel's size, PyTorch's default
}

// MaxPool2d takes the maximum of each channel of a C×H×W input over
// Kernel[0]×Kernel[1] windows moved by Stride (no padding), as PyTorch's
// nn.MaxPool2d with ceil_mode off and dilation 1; the output is flattened
// as AvgPool2d's. Its derivatives go through the arg-max of each window,
// the first maximum in row-major order on ties (a NaN counts as the
// maximum), as PyTorch picks it; they are exact wherever the arg-max does
// not change, so its second-order term is zero. It has no parameters.
type MaxPool2d struct {
	C, H, W int    // input channels, height and width
	Kernel  [2]int // window height and width
	Stride  [2]int // step in height and width; 0 means the kernel's size, PyTorch's default
}

var (
	_ Layer     = AvgPool2d{}
	_ Validator = AvgPool2d{}
	_ Layer     = MaxPool2d{}
	_ Validator = MaxPool2d{}
)

// pool2d is the shape both pooling layers share.
type pool2d struct {
	C, H, W int
	Kernel  [2]int
	Stride  [2]int
}

func (p pool2d) geom() window {
	return newWindow(p.C, p.H, p.W, p.Kernel, p.Stride, [2]int{}, p.Kernel)
}

func (p pool2d) describe(kind string) string {
	g := p.geom()
	return fmt.Sprintf("%s(%d×%d×%d → %d×%d×%d, kernel %d×%d, stride %d×%d)", kind, p.C, p.H, p.W, p.C, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw)
}

// check panics unless the input x and the output y have the pool's sizes
// and the same rows, and returns the rows.
func (p pool2d) check(kind string, x, y *mat.Dense) int {
	g := p.geom()
	n, c := x.Dims()
	if ry, cy := y.Dims(); c != g.inSize() || ry != n || cy != g.c*g.positions() {
		panic(fmt.Sprintf("nn: %s given %d×%d input and %d×%d output, want %d and %d columns",
			p.describe(kind), n, c, ry, cy, g.inSize(), g.c*g.positions()))
	}
	return n
}

// NewAvgPool2d returns the average pooling of a c×h×w input with the given
// kernel and stride (height, width; a zero stride is the kernel), or an
// error naming the sizes when they do not fit.
func NewAvgPool2d(c, h, w int, kernel, stride [2]int) (AvgPool2d, error) {
	a := AvgPool2d{C: c, H: h, W: w, Kernel: kernel, Stride: stride}
	if err := a.Validate(); err != nil {
		return AvgPool2d{}, fmt.Errorf("nn: %w", err)
	}
	return a, nil
}

// Validate returns an error naming the sizes when the window is larger
// than the input or a size is not positive.
func (a AvgPool2d) Validate() error { return pool2d(a).geom().check(a.String()) }

// String describes the layer in PyTorch's terms.
func (a AvgPool2d) String() string { return pool2d(a).describe("avgpool2d") }

// OutShape returns the output's channels, height and width.
func (a AvgPool2d) OutShape() (channels, height, width int) {
	g := pool2d(a).geom()
	return a.C, g.oh, g.ow
}

// InSize returns C·H·W.
func (a AvgPool2d) InSize() int { return a.C * a.H * a.W }

// OutSize returns C·H'·W'.
func (a AvgPool2d) OutSize() int { return a.C * pool2d(a).geom().positions() }

// NumParams returns 0.
func (a AvgPool2d) NumParams() int { return 0 }

// Init does nothing: there are no parameters.
func (a AvgPool2d) Init([]float64, Activation, *rand.Rand) {}

// Forward stores the window means of x in y.
func (a AvgPool2d) Forward(y, x *mat.Dense, _ []float64) {
	pool2d(a).check("avgpool2d", x, y)
	pool2d(a).geom().average(y.RawMatrix(), x.RawMatrix())
}

// JVP stores the window means of dx in dy: the layer is linear.
func (a AvgPool2d) JVP(dy, x, _ *mat.Dense, _ []float64, dx *mat.Dense, _ []float64) {
	pool2d(a).check("avgpool2d", x, dy)
	if dx == nil {
		dy.Zero()
		return
	}
	pool2d(a).check("avgpool2d", dx, dy)
	pool2d(a).geom().average(dy.RawMatrix(), dx.RawMatrix())
}

// VJP stores in dx each output gradient spread evenly over its window.
func (a AvgPool2d) VJP(dx *mat.Dense, _ []float64, x, _ *mat.Dense, _ []float64, g *mat.Dense) {
	pool2d(a).check("avgpool2d", x, g)
	if dx == nil {
		return
	}
	pool2d(a).check("avgpool2d", dx, g)
	dr := dx.RawMatrix()
	zero(dr)
	pool2d(a).geom().spread(dr, g.RawMatrix())
}

// PerSampleVJP does nothing: there are no parameters.
func (a AvgPool2d) PerSampleVJP(*mat.Dense, *mat.Dense, *mat.Dense, []float64, *mat.Dense) {}

// SecondOrderVJP does nothing: the layer is linear and has no parameters.
func (a AvgPool2d) SecondOrderVJP(*mat.Dense, []float64, *mat.Dense, *mat.Dense, []float64, *mat.Dense, *mat.Dense, []float64) {
}

// NewMaxPool2d returns the max pooling of a c×h×w input with the given
// kernel and stride (height, width; a zero stride is the kernel), or an
// error naming the sizes when they do not fit.
func NewMaxPool2d(c, h, w int, kernel, stride [2]int) (MaxPool2d, error) {
	m := MaxPool2d{C: c, H: h, W: w, Kernel: kernel, Stride: stride}
	if err := m.Validate(); err != nil {
		return MaxPool2d{}, fmt.Errorf("nn: %w", err)
	}
	return m, nil
}

// Validate returns an error naming the sizes when the window is larger
// than the input or a size is not positive.
func (m MaxPool2d) Validate() error { return pool2d(m).geom().check(m.String()) }

// String describes the layer in PyTorch's terms.
func (m MaxPool2d) String() string { return pool2d(m).describe("maxpool2d") }

// OutShape returns the output's channels, height and width.
func (m MaxPool2d) OutShape() (channels, height, width int) {
	g := pool2d(m).geom()
	return m.C, g.oh, g.ow
}

// InSize returns C·H·W.
func (m MaxPool2d) InSize() int { return m.C * m.H * m.W }

// OutSize returns C·H'·W'.
func (m MaxPool2d) OutSize() int { return m.C * pool2d(m).geom().positions() }

// NumParams returns 0.
func (m MaxPool2d) NumParams() int { return 0 }

// Init does nothing: there are no parameters.
func (m MaxPool2d) Init([]float64, Activation, *rand.Rand) {}

// Forward stores the window maxima of x in y.
func (m MaxPool2d) Forward(y, x *mat.Dense, _ []float64) {
	pool2d(m).check("maxpool2d", x, y)
	pool2d(m).geom().gatherMax(y.RawMatrix(), x.RawMatrix(), x.RawMatrix())
}

// JVP stores dx at each window's arg-max of x in dy.
func (m MaxPool2d) JVP(dy, x, _ *mat.Dense, _ []float64, dx *mat.Dense, _ []float64) {
	pool2d(m).check("maxpool2d", x, dy)
	if dx == nil {
		dy.Zero()
		return
	}
	pool2d(m).check("maxpool2d", dx, dy)
	pool2d(m).geom().gatherMax(dy.RawMatrix(), x.RawMatrix(), dx.RawMatrix())
}

// VJP stores in dx each output gradient at its window's arg-max (summed
// where overlapping windows share one).
func (m MaxPool2d) VJP(dx *mat.Dense, _ []float64, x, _ *mat.Dense, _ []float64, g *mat.Dense) {
	pool2d(m).check("maxpool2d", x, g)
	if dx == nil {
		return
	}
	pool2d(m).check("maxpool2d", dx, g)
	dr := dx.RawMatrix()
	zero(dr)
	pool2d(m).geom().scatterMax(dr, x.RawMatrix(), g.RawMatrix())
}

// PerSampleVJP does nothing: there are no parameters.
func (m MaxPool2d) PerSampleVJP(*mat.Dense, *mat.Dense, *mat.Dense, []float64, *mat.Dense) {}

// SecondOrderVJP does nothing: the arg-max is locally constant, so the
// layer is locally linear, and it has no parameters.
func (m MaxPool2d) SecondOrderVJP(*mat.Dense, []float64, *mat.Dense, *mat.Dense, []float64, *mat.Dense, *mat.Dense, []float64) {
}

// average stores the window means of src (N×C·H·W) in dst (N×C·oh·ow).
func (g window) average(dst, src blas64.General) {
	kh, kw, sh, sw, w, ow := g.kh, g.kw, g.sh, g.sw, g.w, g.ow
	scale := 1 / float64(kh*kw)
	g.planes(dst.Rows, src, dst, func(in, out []float64) {
		for a := 0; a < g.oh; a++ {
			orow := out[a*ow : a*ow+ow]
			for b := range orow {
				k0 := a*sh*w + b*sw
				s := 0.0
				for i := 0; i < kh; i++ {
					for _, v := range in[k0+i*w : k0+i*w+kw] {
						s += v
					}
				}
				orow[b] = s * scale
			}
		}
	})
}

// spread adds to dst (N×C·H·W) the adjoint of average applied to src.
func (g window) spread(dst, src blas64.General) {
	kh, kw, sh, sw, w, ow := g.kh, g.kw, g.sh, g.sw, g.w, g.ow
	scale := 1 / float64(kh*kw)
	g.planes(src.Rows, dst, src, func(out, in []float64) {
		for a := 0; a < g.oh; a++ {
			for b, v := range in[a*ow : a*ow+ow] {
				v *= scale
				k0 := a*sh*w + b*sw
				for i := 0; i < kh; i++ {
					row := out[k0+i*w : k0+i*w+kw]
					for j := range row {
						row[j] += v
					}
				}
			}
		}
	})
}

// planes calls f for every sample n < rows and channel c with that
// channel's H×W input plane of x and its oh×ow output plane of y; f loops
// over the windows itself (a call per window, as each makes for the max,
// took 1.6–2.5 times as long for the average's forward and backward passes:
// BenchmarkAvgPool2dLeNet).
func (g window) planes(rows int, x, y blas64.General, f func(in, out []float64)) {
	hw, R := g.h*g.w, g.positions()
	for n := 0; n < rows; n++ {
		for c := 0; c < g.c; c++ {
			f(x.Data[n*x.Stride+c*hw:][:hw], y.Data[n*y.Stride+c*R:][:R])
		}
	}
}

// gatherMax stores in dst (N×C·oh·ow) the entries of src (N×C·H·W) at the
// arg-max of each window of x.
func (g window) gatherMax(dst, x, src blas64.General) {
	g.each(dst.Rows, func(n, c, a, b, r int) {
		off := c * g.h * g.w
		k := g.argmax(x.Data[n*x.Stride+off:], a, b)
		dst.Data[n*dst.Stride+r] = src.Data[n*src.Stride+off+k]
	})
}

// scatterMax adds each entry of src (N×C·oh·ow) to dst (N×C·H·W) at the
// arg-max of its window of x.
func (g window) scatterMax(dst, x, src blas64.General) {
	g.each(src.Rows, func(n, c, a, b, r int) {
		off := c * g.h * g.w
		k := g.argmax(x.Data[n*x.Stride+off:], a, b)
		dst.Data[n*dst.Stride+off+k] += src.Data[n*src.Stride+r]
	})
}

// argmax returns the index in plane (one channel, H×W) of the maximum of
// window (a, b): the first in row-major order on ties, a NaN if there is
// one (the last), as PyTorch's kernel chooses.
func (g window) argmax(plane []float64, a, b int) int {
	best, arg := math.Inf(-1), (a*g.sh)*g.w+b*g.sw
	for i := 0; i < g.kh; i++ {
		k0 := (a*g.sh+i)*g.w + b*g.sw
		for j, v := range plane[k0 : k0+g.kw] {
			if v > best || math.IsNaN(v) {
				best, arg = v, k0+j
			}
		}
	}
	return arg
}

// each calls f for every sample n < rows, channel c and output location
// (a, b), with r the output's column c·oh·ow + a·ow + b.
func (g window) each(rows int, f func(n, c, a, b, r int)) {
	for n := 0; n < rows; n++ {
		r := 0
		for c := 0; c < g.c; c++ {
			for a := 0; a < g.oh; a++ {
				for b := 0; b < g.ow; b++ {
					f(n, c, a, b, r)
					r++
				}
			}
		}
	}
}
