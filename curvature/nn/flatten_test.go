package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
)

// Flatten passes the layer checks and is the identity on rows, forward
// and backward.
func TestFlatten(t *testing.T) {
	f := nn.Flatten{C: 2, H: 3, W: 2}
	require.NoError(t, f.Validate())
	rep := verify.Layer(f, 3, rand.New(rand.NewPCG(1, 3)), nil)
	require.NoError(t, rep.Err(), rep.String())

	rng := rand.New(rand.NewPCG(2, 3))
	x := randDense(4, 12, rng)
	y := mat.NewDense(4, 12, nil)
	f.Forward(y, x, nil)
	assert.Equal(t, x.RawMatrix().Data, y.RawMatrix().Data)
	g := randDense(4, 12, rng)
	dx := mat.NewDense(4, 12, nil)
	f.VJP(dx, nil, x, y, nil, g)
	assert.Equal(t, g.RawMatrix().Data, dx.RawMatrix().Data)

	_, err := nn.New(nn.Flatten{C: 2, H: 0, W: 3})
	assert.EqualError(t, err, "nn: layer 0: flatten(2×0×3 → 0): sizes must be positive")
	// A flatten of another size than the pooling before it.
	_, err = nn.New(nn.AvgPool2d{C: 2, H: 4, W: 4, Kernel: [2]int{2, 2}}, nn.Flatten{C: 2, H: 3, W: 3})
	assert.EqualError(t, err, "nn: layer 1 takes 18 inputs but layer 0 gives 8")
}
