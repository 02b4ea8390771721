package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Flatten marks where a C×H×W tensor becomes a vector of C·H·W features,
// as PyTorch's nn.Flatten does before a linear layer. Rows already hold the
// tensor flattened C×H×W row-major, so the layer is the identity: it
// changes the view, not the numbers, and has no parameters.
type Flatten struct {
	C, H, W int // the input's channels, height and width
}

var (
	_ Layer     = Flatten{}
	_ Validator = Flatten{}
)

// Validate returns an error unless C, H and W are positive.
func (f Flatten) Validate() error {
	if f.C <= 0 || f.H <= 0 || f.W <= 0 {
		return fmt.Errorf("%v: sizes must be positive", f)
	}
	return nil
}

// String describes the layer.
func (f Flatten) String() string {
	return fmt.Sprintf("flatten(%d×%d×%d → %d)", f.C, f.H, f.W, f.C*f.H*f.W)
}

// InSize returns C·H·W.
func (f Flatten) InSize() int { return f.C * f.H * f.W }

// OutSize returns C·H·W.
func (f Flatten) OutSize() int { return f.C * f.H * f.W }

// NumParams returns 0.
func (f Flatten) NumParams() int { return 0 }

// Init does nothing: there are no parameters.
func (f Flatten) Init([]float64, Activation, *rand.Rand) {}

// Forward copies x to y.
func (f Flatten) Forward(y, x *mat.Dense, _ []float64) { f.copy(y, x) }

// JVP copies dx to dy (zero when dx is nil).
func (f Flatten) JVP(dy, x, _ *mat.Dense, _ []float64, dx *mat.Dense, _ []float64) {
	if dx == nil {
		f.check(dy, x)
		dy.Zero()
		return
	}
	f.copy(dy, dx)
}

// VJP copies g to dx.
func (f Flatten) VJP(dx *mat.Dense, _ []float64, x, _ *mat.Dense, _ []float64, g *mat.Dense) {
	f.check(g, x)
	if dx != nil {
		f.copy(dx, g)
	}
}

// PerSampleVJP does nothing: there are no parameters.
func (f Flatten) PerSampleVJP(*mat.Dense, *mat.Dense, *mat.Dense, []float64, *mat.Dense) {}

// SecondOrderVJP does nothing: the layer is linear and has no parameters.
func (f Flatten) SecondOrderVJP(*mat.Dense, []float64, *mat.Dense, *mat.Dense, []float64, *mat.Dense, *mat.Dense, []float64) {
}

func (f Flatten) copy(dst, src *mat.Dense) {
	f.check(dst, src)
	dst.Copy(src)
}

// check panics unless a and b are both N×(C·H·W).
func (f Flatten) check(a, b *mat.Dense) {
	ra, ca := a.Dims()
	rb, cb := b.Dims()
	if ra != rb || ca != f.InSize() || cb != f.InSize() {
		panic(fmt.Sprintf("nn: %v given %d×%d and %d×%d, want %d columns", f, ra, ca, rb, cb, f.InSize()))
	}
}
