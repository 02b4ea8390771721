package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/mat"
)

// A layer wider than the stack buffers its biases pass through: the
// forward pass against W x + b summed entry by entry, the bias gradient
// against the column sums of g taken in the same order (so exactly), and
// neither bias pass allocates (the products may: gonum's, in the purego
// build, start goroutines on large ones).
func TestDenseWideBias(t *testing.T) {
	const n, in, out = 4, 3, 2*chunk + 3
	rng := rand.New(rand.NewPCG(7, 1))
	d := Dense{In: in, Out: out}
	theta := make([]float64, d.NumParams())
	for i := range theta {
		theta[i] = rng.NormFloat64()
	}
	x, g := randomDense(n, in, rng), randomDense(n, out, rng)
	y := mat.NewDense(n, out, nil)
	d.Forward(y, x, theta)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			want := theta[o*(in+1)+in]
			for k := 0; k < in; k++ {
				want += theta[o*(in+1)+k] * x.At(i, k)
			}
			assert.InDelta(t, want, y.At(i, o), 1e-13, "y[%d][%d]", i, o)
		}
	}
	dtheta := make([]float64, d.NumParams())
	d.VJP(nil, dtheta, x, y, theta, g)
	for o := 0; o < out; o++ {
		want := 0.0
		for i := 0; i < n; i++ {
			want += g.At(i, o)
		}
		if got := dtheta[o*(in+1)+in]; got != want {
			t.Fatalf("bias gradient %d: %v, want %v", o, got, want)
		}
	}
	assert.Zero(t, testing.AllocsPerRun(5, func() { d.addBias(y.RawMatrix(), theta) }), "addBias")
	assert.Zero(t, testing.AllocsPerRun(5, func() { d.biasGrad(dtheta, g.RawMatrix(), false) }), "biasGrad")
}
