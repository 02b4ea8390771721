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

// poolShapes are pooling geometries: the default stride (the kernel),
// overlapping windows (stride < kernel), windows that skip inputs
// (stride > kernel), a window as large as the input, and one that does not
// reach the last rows and columns.
var poolShapes = []struct {
	name           string
	c, h, w        int
	kernel, stride [2]int
	outH, outW     int
}{
	{"2x2 default stride", 2, 4, 6, [2]int{2, 2}, [2]int{}, 2, 3},
	{"3x3 stride 1 overlapping", 1, 5, 5, [2]int{3, 3}, [2]int{1, 1}, 3, 3},
	{"2x3 stride 1x2", 2, 5, 6, [2]int{2, 3}, [2]int{1, 2}, 4, 2},
	{"1x1 stride 3 skipping", 3, 7, 5, [2]int{1, 1}, [2]int{3, 3}, 3, 2},
	{"whole input", 2, 3, 4, [2]int{3, 4}, [2]int{}, 1, 1},
	{"ragged edge", 1, 7, 8, [2]int{3, 3}, [2]int{2, 3}, 3, 2},
}

// Both pooling layers pass the layer checks of package verify on every
// shape, and give the output sizes of PyTorch's formula.
func TestPoolVerify(t *testing.T) {
	for _, s := range poolShapes {
		avg, err := nn.NewAvgPool2d(s.c, s.h, s.w, s.kernel, s.stride)
		require.NoError(t, err)
		maxp, err := nn.NewMaxPool2d(s.c, s.h, s.w, s.kernel, s.stride)
		require.NoError(t, err)
		for _, l := range []nn.Layer{avg, maxp} {
			t.Run(s.name+"/"+l.(interface{ String() string }).String(), func(t *testing.T) {
				assert.Equal(t, s.c*s.outH*s.outW, l.OutSize())
				rep := verify.Layer(l, 3, rand.New(rand.NewPCG(1, 2)), nil)
				require.NoError(t, rep.Err(), rep.String())
			})
		}
	}
}

// Forward, JVP and VJP on a hand-worked input. One channel
// [[1, 3, 0, 5], [3, 2, 5, 4], [0, 1, 2, 2]] with 2×2 windows and stride
// (1, 2): the windows are {1,3,3,2}, {0,5,5,4} (rows 0–1) and {3,2,0,1},
// {5,4,2,2} (rows 1–2). Their maxima 3, 5, 3, 5 are each tied or not, and
// PyTorch's kernel takes the first in row-major order: input indices 1, 3,
// 4, 6. Their means are 9/4, 14/4, 6/4, 13/4.
func TestPoolByHand(t *testing.T) {
	x := mat.NewDense(1, 12, []float64{1, 3, 0, 5, 3, 2, 5, 4, 0, 1, 2, 2})
	kernel, stride := [2]int{2, 2}, [2]int{1, 2}
	avg, err := nn.NewAvgPool2d(1, 3, 4, kernel, stride)
	require.NoError(t, err)
	maxp, err := nn.NewMaxPool2d(1, 3, 4, kernel, stride)
	require.NoError(t, err)
	g := mat.NewDense(1, 4, []float64{10, 20, 30, 40})
	dx := mat.NewDense(1, 12, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})

	y := mat.NewDense(1, 4, nil)
	maxp.Forward(y, x, nil)
	assert.Equal(t, []float64{3, 5, 3, 5}, y.RawRowView(0))
	maxp.JVP(y, x, y, nil, dx, nil)
	assert.Equal(t, []float64{1, 3, 4, 6}, y.RawRowView(0), "dx at the first arg-max")
	back := mat.NewDense(1, 12, nil)
	maxp.VJP(back, nil, x, y, nil, g)
	assert.Equal(t, []float64{0, 10, 0, 20, 30, 0, 40, 0, 0, 0, 0, 0}, back.RawRowView(0))

	avg.Forward(y, x, nil)
	assert.Equal(t, []float64{9.0 / 4, 14.0 / 4, 6.0 / 4, 13.0 / 4}, y.RawRowView(0))
	avg.VJP(back, nil, x, y, nil, g)
	// Row 1 is in both rows of windows, so it receives both.
	assert.Equal(t, []float64{2.5, 2.5, 5, 5, 10, 10, 15, 15, 7.5, 7.5, 10, 10}, back.RawRowView(0))
	avg.JVP(y, x, y, nil, nil, nil)
	assert.Equal(t, []float64{0, 0, 0, 0}, y.RawRowView(0), "no direction, no change")
}

// Windows that do not fit are refused, by the constructors and by nn.New
// for literals, with the layer's index and the sizes.
func TestPoolRefusesBadShapes(t *testing.T) {
	_, err := nn.NewMaxPool2d(2, 3, 5, [2]int{4, 2}, [2]int{})
	assert.ErrorContains(t, err, "nn: maxpool2d(")
	assert.ErrorContains(t, err, "kernel 4×2 is larger than the padded input 3×5")
	_, err = nn.NewAvgPool2d(2, 3, 5, [2]int{2, 2}, [2]int{0, -2})
	assert.ErrorContains(t, err, "stride 2×-2")
	_, err = nn.NewAvgPool2d(2, 0, 5, [2]int{1, 1}, [2]int{})
	assert.ErrorContains(t, err, "input 2×0×5")

	conv := nn.Conv2d{In: 1, Out: 2, H: 4, W: 4, Kernel: [2]int{3, 3}} // 2×2×2 out
	_, err = nn.New(conv, nn.AvgPool2d{C: 2, H: 2, W: 2, Kernel: [2]int{3, 3}})
	assert.ErrorContains(t, err, "nn: layer 1: avgpool2d(2×2×2")
	assert.ErrorContains(t, err, "kernel 3×3 is larger than the padded input 2×2")
	// A pool that fits but reads another shape than the convolution gives.
	_, err = nn.New(conv, nn.MaxPool2d{C: 2, H: 3, W: 3, Kernel: [2]int{2, 2}})
	assert.EqualError(t, err, "nn: layer 1 takes 18 inputs but layer 0 gives 8")
}
