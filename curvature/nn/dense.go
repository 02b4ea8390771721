package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/gemm"
	"github.com/curvkit/curvkit/internal/vmath"
)

// Dense is the affine layer s = W a + b mapping In inputs to Out outputs.
// Its parameters are the row-major flattening of [W | b] (Out × (In+1)):
// neuron o's In weights then its bias, neurons in order.
type Dense struct {
	In, Out int
}

var _ Affine = Dense{}

// InSize returns In.
func (d Dense) InSize() int { return d.In }

// OutSize returns Out.
func (d Dense) OutSize() int { return d.Out }

// NumParams returns Out·(In+1).
func (d Dense) NumParams() int { return d.Out * (d.In + 1) }

// KronShape returns p = Out, q = In+1 and one position.
func (d Dense) KronShape() (p, q, positions int) { return d.Out, d.In + 1, 1 }

// KronInputs returns ā = [x | 1] (N×(In+1)) in dst.
func (d Dense) KronInputs(dst, x *mat.Dense) *mat.Dense {
	n, c := x.Dims()
	if c != d.In {
		panic(fmt.Sprintf("nn: dense layer %d→%d given %d input columns", d.In, d.Out, c))
	}
	dst = ensure(dst, n, d.In+1)
	for i := 0; i < n; i++ {
		row := dst.RawRowView(i)
		copy(row, x.RawRowView(i))
		row[d.In] = 1
	}
	return dst
}

// KronGrads returns g: its rows already are the gradients in s.
func (d Dense) KronGrads(_, g *mat.Dense) *mat.Dense { return g }

// Init draws W uniform on ±gain·sqrt(6/(In+Out)) (Glorot) when next is
// identity, tanh or sigmoid (gain 4 for the logistic, whose slope at 0 is
// 1/4), and normal with standard deviation sqrt(2/In) (He) for relu, elu,
// softplus and gelu; b is zero.
func (d Dense) Init(theta []float64, next Activation, rng *rand.Rand) {
	d.checkParams(theta)
	initAffine(theta, d.Out, d.In, d.In, d.Out, next, rng)
}

// initAffine fills the row-major rows × (cols+1) matrix [W | b] in θ: W
// uniform on ±gain·sqrt(6/(fanIn+fanOut)) (Glorot; gain 4 before a
// sigmoid) or, before relu, elu, softplus and gelu, normal with standard
// deviation sqrt(2/fanIn) (He), drawn row by row; b zero.
func initAffine(theta []float64, rows, cols, fanIn, fanOut int, next Activation, rng *rand.Rand) {
	var draw func() float64
	switch next.(type) {
	case ReLU, ELU, Softplus, GELU:
		std := math.Sqrt(2 / float64(fanIn))
		draw = func() float64 { return std * rng.NormFloat64() }
	default:
		gain := 1.0
		if _, ok := next.(Sigmoid); ok {
			gain = 4
		}
		lim := gain * math.Sqrt(6/float64(fanIn+fanOut))
		draw = func() float64 { return lim * (2*rng.Float64() - 1) }
	}
	s := cols + 1
	for o := 0; o < rows; o++ {
		for j := 0; j < cols; j++ {
			theta[o*s+j] = draw()
		}
		theta[o*s+cols] = 0
	}
}

// Weights returns W (Out×In) and b (Out) as views of θ.
func (d Dense) Weights(theta []float64) (w blas64.General, b blas64.Vector) {
	d.checkParams(theta)
	return d.w(theta), blas64.Vector{N: d.Out, Data: theta[d.In:], Inc: d.In + 1}
}

func (d Dense) w(theta []float64) blas64.General {
	return blas64.General{Rows: d.Out, Cols: d.In, Stride: d.In + 1, Data: theta}
}

func (d Dense) checkParams(theta []float64) {
	if len(theta) != d.NumParams() {
		panic(fmt.Sprintf("nn: dense layer %d→%d has %d parameters, got %d", d.In, d.Out, d.NumParams(), len(theta)))
	}
}

// Forward stores x Wᵀ + 1 bᵀ in y.
func (d Dense) Forward(y, x *mat.Dense, theta []float64) {
	d.checkParams(theta)
	yr := y.RawMatrix()
	mulWeights(blas.Trans, x.RawMatrix(), d.w(theta), 0, yr)
	d.addBias(yr, theta)
}

func (d Dense) addBias(y blas64.General, theta []float64) {
	// The biases lie In+1 apart in θ: gather a chunk once, then add it to
	// each row contiguously.
	var bias [chunk]float64
	for o0 := 0; o0 < d.Out; o0 += chunk {
		b := d.gatherBias(bias[:min(chunk, d.Out-o0)], theta, o0)
		for i := 0; i < y.Rows; i++ {
			vmath.Add(y.Data[i*y.Stride+o0:i*y.Stride+o0+len(b)], b)
		}
	}
}

// gatherBias stores the biases of neurons o0, o0+1, … in dst and returns
// it.
func (d Dense) gatherBias(dst, theta []float64, o0 int) []float64 {
	s := d.In + 1
	for o := range dst {
		dst[o] = theta[(o0+o)*s+d.In]
	}
	return dst
}

// JVP stores dx Wᵀ + x dWᵀ + 1 dbᵀ in dy.
func (d Dense) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	d.checkParams(theta)
	dyr := dy.RawMatrix()
	beta := 0.0
	if dx != nil {
		mulWeights(blas.Trans, dx.RawMatrix(), d.w(theta), 0, dyr)
		beta = 1
	}
	if dtheta != nil {
		d.checkParams(dtheta)
		mulWeights(blas.Trans, x.RawMatrix(), d.w(dtheta), beta, dyr)
		d.addBias(dyr, dtheta)
		return
	}
	if beta == 0 {
		zero(dyr)
	}
}

// VJP stores g W in dx and [gᵀx | gᵀ1] in dθ.
func (d Dense) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	d.checkParams(theta)
	gr := g.RawMatrix()
	if dx != nil {
		mulWeights(blas.NoTrans, gr, d.w(theta), 0, dx.RawMatrix())
	}
	if dtheta != nil {
		d.checkParams(dtheta)
		gemm.Gemm(blas.Trans, blas.NoTrans, 1, gr, x.RawMatrix(), 0, d.w(dtheta))
		d.biasGrad(dtheta, gr, false)
	}
}

// biasGrad stores (or adds) the column sums of g into the bias entries,
// summing a chunk of columns in a stack buffer, row by row in order.
func (d Dense) biasGrad(dtheta []float64, g blas64.General, add bool) {
	var sum [chunk]float64
	s := d.In + 1
	for o0 := 0; o0 < d.Out; o0 += chunk {
		acc := sum[:min(chunk, d.Out-o0)]
		if add {
			d.gatherBias(acc, dtheta, o0)
		} else {
			clear(acc)
		}
		for i := 0; i < g.Rows; i++ {
			vmath.Add(acc, g.Data[i*g.Stride+o0:i*g.Stride+o0+len(acc)])
		}
		for o, v := range acc {
			dtheta[(o0+o)*s+d.In] = v
		}
	}
}

// PerSampleVJP stores the outer product g_i ā_iᵀ, ā_i = [x_i; 1], flattened
// row-major, in row i of dst.
func (d Dense) PerSampleVJP(dst *mat.Dense, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	d.checkParams(theta)
	dr, xr, gr := dst.RawMatrix(), x.RawMatrix(), g.RawMatrix()
	s := d.In + 1
	for i := 0; i < dr.Rows; i++ {
		out := dr.Data[i*dr.Stride : i*dr.Stride+d.NumParams()]
		xi := xr.Data[i*xr.Stride : i*xr.Stride+d.In]
		gi := gr.Data[i*gr.Stride : i*gr.Stride+d.Out]
		for o, gv := range gi {
			seg := out[o*s : o*s+s]
			for j, xv := range xi {
				seg[j] = gv * xv
			}
			seg[d.In] = gv
		}
	}
}

// SecondOrderVJP adds g dW to rdx and [gᵀ dx | 0] to rdθ: the layer is
// bilinear in (W, x), so these mixed terms are its whole residual.
func (d Dense) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, _, _ *mat.Dense, theta []float64, g, dx *mat.Dense, dtheta []float64) {
	d.checkParams(theta)
	gr := g.RawMatrix()
	if rdx != nil && dtheta != nil {
		d.checkParams(dtheta)
		mulWeights(blas.NoTrans, gr, d.w(dtheta), 1, rdx.RawMatrix())
	}
	if rdtheta != nil && dx != nil {
		d.checkParams(rdtheta)
		gemm.Gemm(blas.Trans, blas.NoTrans, 1, gr, dx.RawMatrix(), 1, d.w(rdtheta))
	}
}

func zero(m blas64.General) {
	for i := 0; i < m.Rows; i++ {
		clear(m.Data[i*m.Stride : i*m.Stride+m.Cols])
	}
}
