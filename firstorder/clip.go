package firstorder

import (
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/floats"
)

var _ Optimizer = (*Clipped)(nil)

// clipEps is added to the norm before dividing, as in torch's
// clip_grad_norm_.
const clipEps = 1e-6

// ClipNorm scales grad in place so that its Euclidean norm is at most about
// maxNorm, as torch.nn.utils.clip_grad_norm_: with c = maxNorm/(‖grad‖ +
// 1e-6), grad is multiplied by c if c < 1. It returns ‖grad‖ before
// clipping, which is NaN or +Inf if grad holds a NaN or an infinity; grad is
// then left unchanged, so that Step reports the bad value (torch would
// multiply it by 0 or NaN, turning an infinity into NaN). If the entries are
// finite but the norm overflows, it returns +Inf and grad is scaled to norm
// maxNorm all the same. ClipNorm panics if maxNorm is not positive and
// finite.
func ClipNorm(grad []float64, maxNorm float64) float64 {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 1) {
		panic(fmt.Sprintf("firstorder: ClipNorm: maxNorm = %v is not positive and finite", maxNorm))
	}
	norm, _ := clip(grad, grad, maxNorm)
	return norm
}

// clip writes grad clipped to norm maxNorm into dst, which may be grad, and
// returns ‖grad‖. If grad needs no clipping or holds a NaN or an infinity,
// it writes nothing and reports scaled false.
func clip(dst, grad []float64, maxNorm float64) (norm float64, scaled bool) {
	norm = l2Norm(grad)
	c := maxNorm / (norm + clipEps)
	if !(c < 1) { // within the bound, or a NaN
		return norm, false
	}
	if math.IsInf(norm, 1) {
		big := floats.Norm(grad, math.Inf(1))
		if math.IsInf(big, 1) {
			return norm, false
		}
		// Finite entries whose norm overflows: divide by the largest first,
		// which brings the norm into [1, √n]; the 1e-6 is below rounding.
		dst = dst[:len(grad)]
		for i, g := range grad {
			dst[i] = g / big
		}
		floats.Scale(maxNorm/floats.Norm(dst, 2), dst)
		return norm, true
	}
	floats.ScaleTo(dst, c, grad)
	return norm, true
}

// l2Norm returns the Euclidean norm of g: a plain sum of squares, or
// gonum's scaled one where that would overflow or lose precision to
// underflow, or g is not finite.
func l2Norm(g []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(g); i += 4 {
		s0 += float64(g[i] * g[i])
		s1 += float64(g[i+1] * g[i+1])
		s2 += float64(g[i+2] * g[i+2])
		s3 += float64(g[i+3] * g[i+3])
	}
	for ; i < len(g); i++ {
		s0 += float64(g[i] * g[i])
	}
	s := s0 + s1 + s2 + s3
	if s >= 0x1p-900 && s <= 0x1p+900 {
		return math.Sqrt(s)
	}
	return floats.Norm(g, 2) // NaN if g holds a NaN, else +Inf if an infinity
}

// Clipped wraps an optimizer so that each step first clips the gradient's
// norm as ClipNorm does, into a buffer of its own: the caller's gradient is
// not modified. It is itself an Optimizer whose state is the wrapped one's.
type Clipped struct {
	opt     Optimizer
	maxNorm float64
	g       []float64
	norm    float64
}

// NewClipped returns opt with gradients clipped to norm maxNorm, or an error
// if opt is nil or maxNorm is not positive and finite.
func NewClipped(opt Optimizer, maxNorm float64) (*Clipped, error) {
	if isNil(opt) {
		return nil, errors.New("firstorder: NewClipped: nil optimizer")
	}
	if !(maxNorm > 0) || math.IsInf(maxNorm, 1) {
		return nil, fmt.Errorf("firstorder: Clipped: maxNorm = %v is not positive and finite", maxNorm)
	}
	return &Clipped{opt: opt, maxNorm: maxNorm, g: make([]float64, opt.Len())}, nil
}

// Step clips the gradient and takes the wrapped optimizer's step. A
// gradient holding a NaN or an infinity is passed on unchanged, so the
// wrapped optimizer's error names the bad value.
func (w *Clipped) Step(x, grad []float64) error {
	checkLen("Clipped", len(w.g), x, grad)
	var scaled bool
	w.norm, scaled = clip(w.g, grad, w.maxNorm)
	if scaled {
		grad = w.g
	}
	return w.opt.Step(x, grad)
}

// Norm returns the gradient norm, before clipping, of the last call to Step.
func (w *Clipped) Norm() float64 { return w.norm }

// Reset resets the wrapped optimizer.
func (w *Clipped) Reset() { w.opt.Reset() }

// Len returns the number of parameters.
func (w *Clipped) Len() int { return w.opt.Len() }

// Steps returns the wrapped optimizer's step count.
func (w *Clipped) Steps() int { return w.opt.Steps() }

// LearningRate returns the wrapped optimizer's learning rate.
func (w *Clipped) LearningRate() float64 { return w.opt.LearningRate() }

// SetLearningRate sets the wrapped optimizer's learning rate.
func (w *Clipped) SetLearningRate(lr float64) error { return w.opt.SetLearningRate(lr) }

// Save saves the wrapped optimizer's state.
func (w *Clipped) Save(wr io.Writer) error { return w.opt.Save(wr) }

// Load loads the wrapped optimizer's state.
func (w *Clipped) Load(r io.Reader) error { return w.opt.Load(r) }
