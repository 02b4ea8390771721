package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Elementwise applies an activation to every entry: y = φ(x). It has no
// parameters; its residual second-order term is φ″(x) ⊙ dx ⊙ g.
type Elementwise struct {
	Size int
	Act  Activation
}

var _ Pointwise = Elementwise{}

// InSize returns Size.
func (e Elementwise) InSize() int { return e.Size }

// OutSize returns Size.
func (e Elementwise) OutSize() int { return e.Size }

// Activation returns Act.
func (e Elementwise) Activation() Activation { return e.Act }

// Init does nothing: there are no parameters.
func (e Elementwise) Init([]float64, Activation, *rand.Rand) {}

// NumParams returns 0.
func (e Elementwise) NumParams() int { return 0 }

// Forward stores φ(x) in y.
func (e Elementwise) Forward(y, x *mat.Dense, _ []float64) {
	e.rows(func(yr, xr []float64) { e.Act.Apply(yr, xr) }, y, x)
}

// JVP stores φ'(x) ⊙ dx in dy.
func (e Elementwise) JVP(dy, x, y *mat.Dense, _ []float64, dx *mat.Dense, _ []float64) {
	if dx == nil {
		dy.Zero()
		return
	}
	e.derivTimes(dy, x, y, dx)
}

// VJP stores φ'(x) ⊙ g in dx.
func (e Elementwise) VJP(dx *mat.Dense, _ []float64, x, y *mat.Dense, _ []float64, g *mat.Dense) {
	if dx != nil {
		e.derivTimes(dx, x, y, g)
	}
}

// PerSampleVJP does nothing: there are no parameters.
func (e Elementwise) PerSampleVJP(*mat.Dense, *mat.Dense, *mat.Dense, []float64, *mat.Dense) {}

// SecondOrderVJP adds φ″(x) ⊙ dx ⊙ g to rdx.
func (e Elementwise) SecondOrderVJP(rdx *mat.Dense, _ []float64, x, y *mat.Dense, _ []float64, g, dx *mat.Dense, _ []float64) {
	if rdx == nil || dx == nil {
		return
	}
	buf := make([]float64, e.Size)
	n, _ := x.Dims()
	rr, xr, yr, gr, dr := rdx.RawMatrix(), x.RawMatrix(), y.RawMatrix(), g.RawMatrix(), dx.RawMatrix()
	for i := 0; i < n; i++ {
		e.Act.Deriv2(buf, row(xr.Data, xr.Stride, i, e.Size), row(yr.Data, yr.Stride, i, e.Size))
		out := row(rr.Data, rr.Stride, i, e.Size)
		gi := row(gr.Data, gr.Stride, i, e.Size)
		di := row(dr.Data, dr.Stride, i, e.Size)
		for k, v := range buf {
			out[k] += v * di[k] * gi[k]
		}
	}
}

// derivTimes stores φ'(x) ⊙ v in dst, row by row; dst must not alias v.
func (e Elementwise) derivTimes(dst, x, y, v *mat.Dense) {
	fused, _ := e.Act.(derivTimeser)
	n, _ := x.Dims()
	dr, xr, yr, vr := dst.RawMatrix(), x.RawMatrix(), y.RawMatrix(), v.RawMatrix()
	for i := 0; i < n; i++ {
		out := row(dr.Data, dr.Stride, i, e.Size)
		xi, yi := row(xr.Data, xr.Stride, i, e.Size), row(yr.Data, yr.Stride, i, e.Size)
		vi := row(vr.Data, vr.Stride, i, e.Size)
		if fused != nil {
			fused.derivTimes(out, xi, yi, vi)
			continue
		}
		e.Act.Deriv(out, xi, yi)
		for k, vk := range vi {
			out[k] *= vk
		}
	}
}

func (e Elementwise) rows(f func(dst, src []float64), dst, src *mat.Dense) {
	n, c := src.Dims()
	if c != e.Size {
		panic(fmt.Sprintf("nn: activation layer of size %d given %d columns", e.Size, c))
	}
	dr, sr := dst.RawMatrix(), src.RawMatrix()
	for i := 0; i < n; i++ {
		f(row(dr.Data, dr.Stride, i, e.Size), row(sr.Data, sr.Stride, i, e.Size))
	}
}

func row(data []float64, stride, i, n int) []float64 {
	return data[i*stride : i*stride+n]
}
