package curvature

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// ioNets are networks of every layer type nn has, for the round trips.
func ioNets(t testing.TB) map[string]*nn.Network {
	t.Helper()
	must := func(net *nn.Network, err error) *nn.Network {
		t.Helper()
		require.NoError(t, err)
		return net
	}
	act := func(n int, a nn.Activation) nn.Layer { return nn.Elementwise{Size: n, Act: a} }
	return map[string]*nn.Network{
		"mlp": must(nn.NewMLP([]int{3, 5, 4, 2}, []string{"tanh", "relu", "identity"})),
		// conv → tanh → average pooling → strided max pooling → layer norm
		// over the last dimension → flatten → linear.
		"conv": must(nn.New(
			nn.Conv2d{In: 1, Out: 2, H: 6, W: 6, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}, // 2×6×6
			act(72, nn.Tanh{}),
			nn.AvgPool2d{C: 2, H: 6, W: 6, Kernel: [2]int{2, 2}},                       // 2×3×3
			nn.MaxPool2d{C: 2, H: 3, W: 3, Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}}, // 2×2×2
			nn.LayerNorm{Size: 8, Normalized: 2, Eps: 1e-3},
			nn.Flatten{C: 2, H: 2, W: 2},
			nn.Dense{In: 8, Out: 3},
		)),
		// A residual MLP with LayerNorm, nested blocks and two blocks of
		// the same span.
		"residual mlp": must(nn.New(
			nn.Dense{In: 4, Out: 6}, act(6, nn.Tanh{}),
			nn.Residual(nn.LayerNorm{Size: 6}, nn.Dense{In: 6, Out: 6}, act(6, nn.GELU{}),
				nn.Residual(nn.Dense{In: 6, Out: 6}, act(6, nn.Sigmoid{}))),
			nn.Residual(nn.Residual(nn.Dense{In: 6, Out: 6})),
			nn.Dense{In: 6, Out: 3},
		)),
		// An activation before the first convolution, a residual conv
		// block with a layer norm over H×W, strides and pooling strides
		// left at zero (their defaults).
		"residual conv": must(nn.New(
			act(32, nn.Softplus{}),
			nn.Conv2d{In: 2, Out: 2, H: 4, W: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}},
			nn.Residual(
				nn.Conv2d{In: 2, Out: 2, H: 4, W: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}},
				act(32, nn.ReLU{}),
				nn.LayerNorm{Size: 32, Normalized: 16},
			),
			nn.AvgPool2d{C: 2, H: 4, W: 4, Kernel: [2]int{2, 2}},
			nn.Flatten{C: 2, H: 2, W: 2},
			nn.Dense{In: 8, Out: 2},
		)),
		// An identity layer and a flatten of a vector, both kept.
		"identity and flatten": must(nn.New(
			nn.Dense{In: 3, Out: 4}, act(4, nn.Identity{}), nn.Flatten{C: 4, H: 1, W: 1}, act(4, nn.ELU{}), nn.Dense{In: 4, Out: 2},
		)),
	}
}

// ioTheta returns a θ for net with values whose bits are easy to lose in
// decimal: -0, the smallest subnormal, the largest float64, 0.1+0.2, and
// random normals otherwise.
func ioTheta(net *nn.Network, rng *rand.Rand) []float64 {
	theta := make([]float64, net.NumParams())
	for i := range theta {
		theta[i] = rng.NormFloat64()
	}
	special := []float64{math.Copysign(0, -1), math.SmallestNonzeroFloat64, 0.1 + 0.2, 1 / 3.0, -2.5e-17}
	copy(theta, special)
	return theta
}

func randomInputs(net *nn.Network, n int, rng *rand.Rand) *mat.Dense {
	x := mat.NewDense(n, net.InSize(), nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rng.NormFloat64()
	}
	return x
}

// roundTrip writes m and θ with write, reads the file back, and checks
// that the network has the same structure (description, skip edges, layer
// sizes and parameter ranges), the same loss and θ bit for bit, and gives
// the same outputs bit for bit on a random batch; and that writing it
// again gives the same bytes. It returns the file.
func roundTrip(t *testing.T, m *Model, theta []float64, write func(io *bytes.Buffer, m *Model, theta []float64) error) string {
	t.Helper()
	var file bytes.Buffer
	require.NoError(t, write(&file, m, theta))
	m2, theta2, err := ReadModel(bytes.NewReader(file.Bytes()))
	require.NoError(t, err, file.String())

	require.Len(t, theta2, len(theta))
	for i := range theta {
		require.Equal(t, math.Float64bits(theta[i]), math.Float64bits(theta2[i]), "θ[%d] = %v read back as %v", i, theta[i], theta2[i])
	}
	assert.Equal(t, m.Loss, m2.Loss)
	d1, err := nn.Describe(m.Net)
	require.NoError(t, err)
	d2, err := nn.Describe(m2.Net)
	require.NoError(t, err)
	assert.Equal(t, d1, d2)
	assert.Equal(t, m.Net.Skips(), m2.Net.Skips())
	require.Len(t, m2.Net.Layers, len(m.Net.Layers))
	for k, l := range m.Net.Layers {
		l2 := m2.Net.Layers[k]
		assert.Equal(t, fmt.Sprintf("%T", l), fmt.Sprintf("%T", l2), "layer %d", k)
		assert.Equal(t, []int{l.InSize(), l.OutSize(), l.NumParams()}, []int{l2.InSize(), l2.OutSize(), l2.NumParams()}, "layer %d", k)
	}

	x := randomInputs(m.Net, 5, rand.New(rand.NewPCG(2, 2)))
	z1 := mat.DenseCopyOf(nn.NewTape(m.Net, m.Loss).Forward(theta, x))
	z2 := nn.NewTape(m2.Net, m2.Loss).Forward(theta2, x)
	assert.True(t, mat.Equal(z1, z2), "outputs differ:\n%v\n%v", mat.Formatted(z1), mat.Formatted(z2))

	var again bytes.Buffer
	require.NoError(t, write(&again, m2, theta2))
	assert.Equal(t, file.String(), again.String(), "written twice")
	return file.String()
}

// Every network written and read back is the same network with the same θ
// bit for bit and the same outputs, for every loss; MLPs in both forms.
func TestModelRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for name, net := range ioNets(t) {
		losses := append([]nn.Loss(nil), allLosses...)
		C := net.OutSize()
		w := make([]float64, C)
		for k := range w {
			w[k] = 0.1 + rng.Float64() // bits that decimals lose
		}
		losses = append(losses, nn.WeightedSoftmaxCrossEntropy{}, nn.WeightedSoftmaxCrossEntropy{Weights: w})
		if C%2 == 0 {
			losses = append(losses, nn.GaussianNLL{})
		}
		for _, loss := range losses {
			t.Run(name+"/"+loss.Name(), func(t *testing.T) {
				m := &Model{Net: net, Loss: loss}
				theta := ioTheta(net, rng)
				file := roundTrip(t, m, theta, func(w *bytes.Buffer, m *Model, th []float64) error { return WriteModel(w, m, th) })
				assert.True(t, strings.HasPrefix(file, "{\n  \"input_shape\": ["), file)
				if l, ok := loss.(nn.WeightedSoftmaxCrossEntropy); ok {
					assert.Equal(t, l.Weights != nil, strings.Contains(file, `"class_weights": [`), file)
				}
				if name != "mlp" {
					err := WriteModelMLP(new(bytes.Buffer), m, theta)
					assert.ErrorContains(t, err, "write the general form")
					return
				}
				file = roundTrip(t, m, theta, func(w *bytes.Buffer, m *Model, th []float64) error { return WriteModelMLP(w, m, th) })
				assert.Contains(t, file, `"sizes": [3, 5, 4, 2],`)
				assert.Contains(t, file, `"activations": ["tanh", "relu", "identity"],`)
			})
		}
	}
}

// The file WriteModel writes for a small conv net: one layer a line, in
// PyTorch's terms, with the defaults that zero settings stand for written
// out, and the MLP form of an MLP.
func TestWriteModelText(t *testing.T) {
	net, err := nn.New(
		nn.Conv2d{In: 1, Out: 1, H: 3, W: 3, Kernel: [2]int{2, 2}},
		nn.Residual(nn.Elementwise{Size: 4, Act: nn.Tanh{}}, nn.LayerNorm{Size: 4, Normalized: 2}),
		nn.Flatten{C: 1, H: 2, W: 2},
		nn.Dense{In: 4, Out: 2},
	)
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	for i := range theta {
		theta[i] = float64(i) / 4
	}
	theta[0] = math.Copysign(0, -1)
	theta[1] = 1e-300
	var b bytes.Buffer
	require.NoError(t, WriteModel(&b, &Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta))
	want := `{
  "input_shape": [1, 3, 3],
  "layers": [
    {"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": [2, 2], "stride": [1, 1], "padding": [0, 0]},
    {"type": "residual", "layers": [
      {"type": "tanh"},
      {"type": "layernorm", "normalized_shape": [2], "eps": 0.00001}
    ]},
    {"type": "flatten"},
    {"type": "linear", "in_features": 4, "out_features": 2}
  ],
  "loss": "softmax_ce",
  "params": [-0, 1e-300, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5]
}
`
	assert.Equal(t, want, b.String())
	var v any
	require.NoError(t, json.Unmarshal(b.Bytes(), &v), "valid JSON")

	mlp, err := nn.NewMLP([]int{2, 1}, []string{"sigmoid"})
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, WriteModelMLP(&b, &Model{Net: mlp, Loss: nn.SigmoidBCE{}}, []float64{1, -2, 3}))
	assert.Equal(t, "{\n  \"sizes\": [2, 1],\n  \"activations\": [\"sigmoid\"],\n  \"loss\": \"sigmoid_bce\",\n  \"params\": [1, -2, 3]\n}\n", b.String())

	two, err := nn.NewMLP([]int{1, 2}, []string{"identity"})
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, WriteModelMLP(&b, &Model{Net: two, Loss: nn.WeightedSoftmaxCrossEntropy{Weights: []float64{0.25, 3}}}, []float64{1, -2, 3, 0.5}))
	assert.Equal(t, "{\n  \"sizes\": [1, 2],\n  \"activations\": [\"identity\"],\n  \"loss\": \"weighted_softmax_ce\",\n  \"class_weights\": [0.25, 3],\n  \"params\": [1, -2, 3, 0.5]\n}\n", b.String())
}

// testLayer is a layer type of a test's own: model.json has no
// description of it.
type testLayer struct{ nn.Flatten }

// testActivation is an activation nn.ActivationByName does not know.
type testActivation struct{ nn.Tanh }

func (testActivation) Name() string { return "tanhish" }

// weightedLoss is a loss with a setting, which a name cannot carry.
type weightedLoss struct {
	nn.MSE
	weight float64
}

// What the writers cannot describe is an error naming the layer, and
// nothing is written.
func TestWriteModelErrors(t *testing.T) {
	must := func(net *nn.Network, err error) *nn.Network {
		t.Helper()
		require.NoError(t, err)
		return net
	}
	dense := must(nn.NewMLP([]int{3, 2}, []string{"identity"}))
	cases := []struct {
		name  string
		m     *Model
		theta []float64
		mlp   bool
		want  string
	}{
		{"own layer type", &Model{Net: must(nn.New(nn.Dense{In: 3, Out: 4}, testLayer{nn.Flatten{C: 4, H: 1, W: 1}})), Loss: nn.MSE{}},
			make([]float64, 16), false, "layer 1 (flatten(4×1×1 → 4)): model.json has no description of a curvature.testLayer layer"},
		{"own activation", &Model{Net: must(nn.New(nn.Dense{In: 3, Out: 4}, nn.Elementwise{Size: 4, Act: testActivation{}})), Loss: nn.MSE{}},
			make([]float64, 16), false, `layer 1 (nn.Elementwise): activation curvature.testActivation (named "tanhish") is not one ActivationByName gives`},
		{"implicit reshape", &Model{Net: must(nn.New(nn.Dense{In: 3, Out: 8}, nn.Conv2d{In: 2, Out: 1, H: 2, W: 2, Kernel: [2]int{1, 1}})), Loss: nn.MSE{}},
			make([]float64, 32+3), false, "layer 1 (conv2d(2×2×2 → 1×2×2, kernel 1×1, stride 1×1, padding 0×0)): it takes a 2×2×2 tensor, but its input is a vector of 8 features: model.json has no reshape"},
		{"linear on an image", &Model{Net: must(nn.New(nn.Conv2d{In: 1, Out: 1, H: 2, W: 2, Kernel: [2]int{1, 1}}, nn.Dense{In: 4, Out: 1})), Loss: nn.MSE{}},
			make([]float64, 7), false, "layer 1 (nn.Dense): its input is a 1×2×2 tensor; model.json needs a flatten before a linear layer"},
		{"layer norm groups", &Model{Net: must(nn.New(nn.Dense{In: 3, Out: 4}, nn.LayerNorm{Size: 4, Normalized: 2})), Loss: nn.MSE{}},
			make([]float64, 20), false, "layer 1 (nn.LayerNorm): groups of 2 are not the last dimensions of its input, a vector of 4 features"},
		{"residual changes the shape", &Model{Net: must(nn.New(nn.Conv2d{In: 1, Out: 1, H: 2, W: 2, Kernel: [2]int{1, 1}}, nn.Residual(nn.Flatten{C: 1, H: 2, W: 2}))), Loss: nn.MSE{}},
			make([]float64, 2), false, "the residual block of layers 1–1 turns a 1×2×2 tensor into a vector of 4 features"},
		{"loss with a setting", &Model{Net: dense, Loss: weightedLoss{weight: 2}},
			make([]float64, 8), false, `the loss curvature.weightedLoss (named "mse") is not one nn.LossByName gives back`},
		{"class weights that do not fit", &Model{Net: dense, Loss: nn.WeightedSoftmaxCrossEntropy{Weights: []float64{1, 2, 3}}},
			make([]float64, 8), false, "3 class weights for 2 outputs"},
		{"NaN class weight", &Model{Net: dense, Loss: nn.WeightedSoftmaxCrossEntropy{Weights: []float64{1, math.NaN()}}},
			make([]float64, 8), true, "class weight 1 is NaN"},
		{"NaN in θ", &Model{Net: dense, Loss: nn.MSE{}}, []float64{0, 0, 0, 0, 0, math.NaN(), 0, 0}, false, "θ has non-finite value NaN at index 5"},
		{"no loss", &Model{Net: dense}, make([]float64, 8), false, "model needs a network and a loss"},
		{"MLP form of a conv net", &Model{Net: must(nn.New(nn.Conv2d{In: 1, Out: 1, H: 2, W: 2, Kernel: [2]int{1, 1}}, nn.Flatten{C: 1, H: 2, W: 2}, nn.Dense{In: 4, Out: 1})), Loss: nn.MSE{}},
			make([]float64, 7), true, "layers[0] is a conv2d layer; the MLP form is linear layers each followed by at most one activation"},
		{"MLP form of an identity layer", &Model{Net: must(nn.New(nn.Dense{In: 3, Out: 2}, nn.Elementwise{Size: 2, Act: nn.Identity{}})), Loss: nn.MSE{}},
			make([]float64, 8), true, "layers[1] is an identity activation, which nn.NewMLP does not add"},
		{"MLP form of two activations", &Model{Net: must(nn.New(nn.Dense{In: 3, Out: 2}, nn.Elementwise{Size: 2, Act: nn.Tanh{}}, nn.Elementwise{Size: 2, Act: nn.Tanh{}})), Loss: nn.MSE{}},
			make([]float64, 8), true, "layers[2] is an activation that does not follow a linear layer"},
		{"MLP form of a residual MLP", &Model{Net: must(nn.New(nn.Dense{In: 2, Out: 2}, nn.Residual(nn.Dense{In: 2, Out: 2}))), Loss: nn.MSE{}},
			make([]float64, 12), true, "layers[1] is a residual layer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			var err error
			if c.mlp {
				err = WriteModelMLP(&b, c.m, c.theta)
			} else {
				err = WriteModel(&b, c.m, c.theta)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "curvature: "), err.Error())
			assert.Zero(t, b.Len(), "something was written")
		})
	}
	assert.PanicsWithValue(t, "curvature: θ has length 7, the network has 8 parameters", func() {
		_ = WriteModel(new(bytes.Buffer), &Model{Net: dense, Loss: nn.MSE{}}, make([]float64, 7))
	})
}

// generalFile is a small valid general-form model: 1×4×4 → conv 2×4×4 →
// tanh → avgpool 2×2×2 → flatten 8 → residual (layernorm, linear 8→8) →
// linear 8→3; 20 + 16 + 72 + 27 = 135 parameters.
func generalFile(layers string, params int) string {
	var p []string
	for i := 0; i < params; i++ {
		p = append(p, fmt.Sprint(0.01*float64(i%17)-0.08))
	}
	return `{"input_shape": [1, 4, 4], "layers": [` + layers + `], "loss": "softmax_ce", "params": [` + strings.Join(p, ", ") + `]}`
}

const generalLayers = `
  {"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": [1, 1]},
  {"type": "Tanh"},
  {"type": "avgpool2d", "kernel_size": [2, 2]},
  {"type": "flatten"},
  {"type": "residual", "layers": [{"type": "layernorm", "normalized_shape": 8}, {"type": "linear", "in_features": 8, "out_features": 8}]},
  {"type": "linear", "in_features": 8, "out_features": 3}`

// The general form as docs/export.md writes it — numbers for square
// kernels and a one-dimensional normalized_shape, PyTorch's names in any
// case, defaults left out — reads into the network nn.New builds from the
// same layers.
func TestReadModelGeneral(t *testing.T) {
	m, theta, err := ReadModel(strings.NewReader(generalFile(generalLayers, 135)))
	require.NoError(t, err)
	want, err := nn.New(
		nn.Conv2d{In: 1, Out: 2, H: 4, W: 4, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}},
		nn.Elementwise{Size: 32, Act: nn.Tanh{}},
		nn.AvgPool2d{C: 2, H: 4, W: 4, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}},
		nn.Flatten{C: 2, H: 2, W: 2},
		nn.Residual(nn.LayerNorm{Size: 8, Normalized: 8, Eps: 1e-5}, nn.Dense{In: 8, Out: 8}),
		nn.Dense{In: 8, Out: 3},
	)
	require.NoError(t, err)
	assert.Equal(t, want.Layers, m.Net.Layers)
	assert.Equal(t, want.Skips(), m.Net.Skips())
	assert.Equal(t, nn.SoftmaxCrossEntropy{}, m.Loss)
	require.Len(t, theta, 135)
	assert.Equal(t, 0.01*float64(134%17)-0.08, theta[134])

	// A byte-order mark is skipped.
	_, theta2, err := ReadModel(strings.NewReader("\ufeff" + generalFile(generalLayers, 135)))
	require.NoError(t, err)
	assert.Equal(t, theta, theta2)
}

// Bad general-form files give errors that name the layer and the field,
// or the line and column.
func TestReadModelErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(generalLayers, old) {
			panic(old)
		}
		return generalFile(strings.Replace(generalLayers, old, new, 1), 135)
	}
	cases := []struct{ name, file, want string }{
		{"unknown type", replace(`{"type": "Tanh"}`, `{"type": "batchnorm2d"}`),
			`layers[1] (batchnorm2d): unknown layer type "batchnorm2d" (want conv2d, linear, avgpool2d, maxpool2d, flatten, layernorm, residual, or an activation: elu, gelu, identity, relu, sigmoid, softplus, tanh)`},
		{"missing type", replace(`{"type": "Tanh"}`, `{}`), `layers[1]: "type" is missing`},
		{"missing field", replace(`"in_channels": 1, `, ``), `layers[0] (conv2d): "in_channels" is missing`},
		{"wrong channels", replace(`"in_channels": 1`, `"in_channels": 3`), `layers[0] (conv2d): "in_channels" is 3 but its input is a 1×4×4 tensor`},
		{"field of another type", replace(`{"type": "Tanh"}`, `{"type": "Tanh", "in_features": 3}`), `layers[1] (Tanh): "in_features" does not apply to a tanh layer`},
		{"flatten and linear disagree", replace(`"in_features": 8, "out_features": 3`, `"in_features": 9, "out_features": 3`),
			`layers[5] (linear): "in_features" is 9 but its input is a vector of 8 features`},
		{"no flatten before linear", generalFile(`{"type": "linear", "in_features": 16, "out_features": 3}`, 51),
			`layers[0] (linear): its input is a 1×4×4 tensor; put a flatten before a linear layer`},
		{"conv on a vector", strings.Replace(generalFile(`{"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 1}`, 2), `[1, 4, 4]`, `[16]`, 1),
			`layers[0] (conv2d): its input is a vector of 16 features; conv2d takes a C×H×W tensor`},
		{"kernel too large", replace(`"kernel_size": 3, "padding": [1, 1]`, `"kernel_size": 7, "padding": [1, 1]`),
			`layers[0] (conv2d): conv2d(1×4×4 → 2×0×0, kernel 7×7, stride 1×1, padding 1×1): kernel 7×7 is larger than the padded input 6×6`},
		{"kernel of three", replace(`"kernel_size": 3`, `"kernel_size": [3, 3, 3]`), `layers[0] (conv2d): "kernel_size" is [3 3 3]; want [height, width] or one number`},
		{"kernel as a string", replace(`"kernel_size": 3`, `"kernel_size": "3"`), `"layers.kernel_size" holds a JSON string, want []int`},
		{"kernel out of range", replace(`"kernel_size": 3`, `"kernel_size": 1e400`), `"layers.kernel_size" holds a JSON number 1e400, want []int`},
		{"kernel entry out of range", replace(`"kernel_size": 3`, `"kernel_size": [3, 1e30]`), `"layers.kernel_size" holds a JSON list [3, 1e30], want []int`},
		{"zero stride", replace(`"kernel_size": [2, 2]`, `"kernel_size": [2, 2], "stride": [0, 1]`), `layers[2] (avgpool2d): "stride" is [0 1]; want entries of at least 1`},
		{"negative padding", replace(`"padding": [1, 1]`, `"padding": [1, -1]`), `layers[0] (conv2d): "padding" is [1 -1]; want entries of at least 0`},
		{"pool padding", replace(`"kernel_size": [2, 2]`, `"kernel_size": [2, 2], "padding": 1`), `layers[2] (avgpool2d): "padding" is [1 1]; pooling takes no padding`},
		{"normalized shape", replace(`"normalized_shape": 8`, `"normalized_shape": [2, 4]`),
			`layers[4].layers[0] (layernorm): "normalized_shape" is [2 4]; for a vector of 8 features it is the input's last dimensions, one of [8]`},
		{"zero eps", replace(`"normalized_shape": 8`, `"normalized_shape": 8, "eps": 0`), `layers[4].layers[0] (layernorm): "eps" is 0; want a finite ε > 0`},
		{"nested size", replace(`"in_features": 8, "out_features": 8`, `"in_features": 8, "out_features": 5`),
			`layers[4] (residual): its body turns a vector of 8 features into a vector of 5 features; a residual block keeps its input's shape`},
		{"nested field", replace(`"in_features": 8, "out_features": 8`, `"in_features": 7, "out_features": 8`),
			`layers[4].layers[1] (linear): "in_features" is 7 but its input is a vector of 8 features`},
		{"empty body", replace(`"layers": [{"type": "layernorm", "normalized_shape": 8}, {"type": "linear", "in_features": 8, "out_features": 8}]`, `"layers": []`),
			`layers[4] (residual): "layers" is missing or empty; a residual block needs a body`},
		{"huge size", replace(`"out_features": 3`, `"out_features": 2000000`), `layers[5] (linear): "out_features" is 2000000; sizes above 1048576 are not supported`},
		{"huge output", `{"input_shape": [1, 1024, 1024], "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 1}], "loss": "mse", "params": []}`,
			`layers[0] (conv2d): its output 2×1024×1024 is over the limit of 1048576 values`},
		{"no input shape", `{"layers": [{"type": "tanh"}], "loss": "mse", "params": []}`, `"input_shape" is missing`},
		{"input shape of two", `{"input_shape": [1, 2], "layers": [{"type": "tanh"}], "loss": "mse", "params": []}`, `"input_shape" is [1 2]; want [C, H, W] or [D]`},
		{"no layers", `{"input_shape": [2], "layers": [], "loss": "mse", "params": []}`, `"layers" is empty`},
		{"both forms", `{"sizes": [2, 1], "input_shape": [2], "loss": "mse", "params": []}`, `give one`},
		{"neither form", `{"loss": "mse", "params": []}`, `neither "input_shape" and "layers"`},
		{"params count", generalFile(generalLayers, 134),
			`"params" has 134 values but the layers need 135 (layers[0] conv2d: 20, layers[4].layers[0] layernorm: 16, layers[4].layers[1] linear: 72, layers[5] linear: 27)`},
		{"null param", strings.Replace(generalFile(generalLayers, 135), `"params": [-0.08, -0.07`, `"params": [-0.08, null`, 1), `params[1] is null`},
		{"param out of range", strings.Replace(generalFile(generalLayers, 135), `"params": [-0.08`, `"params": [1e999`, 1), `"params" holds a JSON number 1e999`},
		{"duplicate key in a layer", replace(`{"type": "flatten"}`, "{\"type\": \"flatten\",\n \"Type\": \"tanh\"}"),
			`line 6, column 2: duplicate key "Type" (the same field as "type")`},
		{"unknown key in a layer", replace(`{"type": "flatten"}`, `{"type": "flatten", "start_dim": 1}`), `unknown field "start_dim"`},
		{"one output", generalFile(strings.Replace(generalLayers, `"out_features": 3`, `"out_features": 1`, 1), 117),
			`softmax_ce needs at least 2 outputs, the network has 1`},
		{"odd outputs for the Gaussian", mlpFile(`"loss": "gaussian_nll"`), `gaussian_nll needs an even number of outputs (means then log-variances), the network has 3`},
		{"class weights for another loss", mlpFile(`"loss": "softmax_ce", "class_weights": [1, 2, 3]`), `"class_weights" are weighted_softmax_ce's; the loss is softmax_ce`},
		{"too few class weights", mlpFile(`"loss": "weighted_softmax_ce", "class_weights": [1, 2]`), `"class_weights": 2 class weights for 3 outputs`},
		{"negative class weight", mlpFile(`"loss": "weighted_softmax_ce", "class_weights": [1, -2, 3]`), `"class_weights": class weight 1 is -2`},
		{"null class weight", mlpFile(`"loss": "weighted_softmax_ce", "class_weights": [1, null, 3]`), `class_weights[1] is null`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, theta, err := ReadModel(strings.NewReader(c.file))
			require.Error(t, err, c.file)
			assert.Nil(t, m)
			assert.Nil(t, theta)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "curvature: "), err.Error())
			assert.NotContains(t, err.Error(), "nn: ")
		})
	}
}

// mlpFile is the MLP form of a 2-3 linear layer with the loss fields given.
func mlpFile(loss string) string {
	return `{"sizes": [2, 3], "activations": ["identity"], ` + loss + `, "params": [1, 2, 3, 4, 5, 6, 7, 8, 9]}`
}

// A reader that fails gives its error.
func TestReadModelReaderError(t *testing.T) {
	_, _, err := ReadModel(failingReader{})
	assert.ErrorIs(t, err, errBroken)
}

var errBroken = fmt.Errorf("broken pipe")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBroken }

// A leading UTF-8 byte-order mark is accepted in the MLP form as in the
// general form; only at the start.
func TestModelBOM(t *testing.T) {
	raw := []byte(`{"sizes": [3, 2], "activations": ["tanh"], "loss": "mse", "params": [1, 2, 3, 4, 5, 6, 7, 8]}`)
	_, plain, err := parseModel(raw)
	require.NoError(t, err)
	_, bom, err := parseModel(append([]byte("\ufeff"), raw...))
	require.NoError(t, err)
	assert.Equal(t, plain, bom)
	_, _, err = parseModel(append(append([]byte(nil), raw[:1]...), append([]byte("\ufeff"), raw[1:]...)...))
	assert.ErrorContains(t, err, "invalid JSON")
}

// duplicateKey finds a key repeated in any object, at any depth, and only
// within one object.
func TestDuplicateKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}`, ""},
		{`[{"a": 1}, {"b": [1, {"c": 2, "c": 3}]}]`, `line 1, column 31: duplicate key "c"`}, // the quote is the 31st character
		{"{\"a\": {\"x\": 1},\n\"a\": 2}", `line 2, column 1: duplicate key "a"`},
		{`{"K": 1, "\u212a": 2}`, "duplicate key \"\u212a\" (the same field as \"K\")"}, // the Kelvin sign folds to k
		{`{"a": [], "b": {}, "c": null, "d": "a", "a": 0}`, `duplicate key "a"`},
	} {
		err := duplicateKey([]byte(c.in))
		if c.want == "" {
			assert.NoError(t, err, c.in)
		} else {
			assert.ErrorContains(t, err, c.want, c.in)
		}
	}
}
