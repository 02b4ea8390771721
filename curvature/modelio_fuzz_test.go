package curvature

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature/nn"
)

// FuzzReadModel: any bytes give a model or an error, never a panic; a
// model that reads has as many parameters as its network, and written back
// (WriteModel, and WriteModelMLP for an MLP) it reads as the same network,
// loss and θ bit for bit. testdata/fuzz/FuzzReadModel holds the seeds of
// both forms that go test replays.
func FuzzReadModel(f *testing.F) {
	f.Add([]byte(`{"sizes": [2, 3, 1], "activations": ["tanh", "identity"], "loss": "mse", "params": [1,2,3,4,5,6,7,8,9,10,11,12,13]}`))
	f.Add([]byte(`{"sizes": [1, 2], "activations": ["relu"], "loss": "softmax_ce", "params": [0.5, -1e300, null, 4]}`))
	f.Add([]byte(`{"sizes": [-1, 2], "activations": [""], "loss": "bce", "params": []}`))
	f.Add([]byte("{\"sizes\": [1, 1],\n\"loss\": 1e999}"))
	f.Add([]byte("\ufeff{\"sizes\": [1, 1], \"activations\": [\"tanh\"], \"loss\": \"mse\", \"params\": [1, 2]}"))
	f.Add([]byte(`{"sizes": [1, 1], "activations": ["tanh"], "loss": "mse", "params": [1, 2], "Loss": "mse"}`))
	f.Add([]byte(generalFile(generalLayers, 135)))
	f.Add([]byte(`{"input_shape": [2], "layers": [{"type": "residual", "layers": [{"type": "residual", "layers": [{"type": "linear", "in_features": 2, "out_features": 2}]}]}], "loss": "mse", "params": [1, 2, 3, 4, 5, 6]}`))
	f.Add([]byte(`{"input_shape": [2, 1, 3], "layers": [{"type": "layernorm", "normalized_shape": [3], "eps": 1e-3}, {"type": "maxpool2d", "kernel_size": [1, 2], "stride": 1}], "loss": "sigmoid_bce", "params": [1, 1, 1, 0, 0, 0]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, theta, err := ReadModel(bytes.NewReader(raw))
		if err != nil {
			require.Nil(t, m)
			require.True(t, strings.HasPrefix(err.Error(), "curvature: "), err.Error())
			return
		}
		require.Len(t, theta, m.Net.NumParams())
		writers := []func(*bytes.Buffer, *Model, []float64) error{
			func(b *bytes.Buffer, m *Model, th []float64) error { return WriteModel(b, m, th) },
		}
		if bytes.Contains(raw, []byte(`"sizes"`)) || bytes.Contains(raw, []byte(`"activations"`)) {
			writers = append(writers, func(b *bytes.Buffer, m *Model, th []float64) error { return WriteModelMLP(b, m, th) })
		}
		want, err := nn.Describe(m.Net)
		require.NoError(t, err)
		for _, write := range writers {
			var b bytes.Buffer
			require.NoError(t, write(&b, m, theta))
			m2, theta2, err := ReadModel(&b)
			require.NoError(t, err, b.String())
			got, err := nn.Describe(m2.Net)
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.Equal(t, m.Net.Skips(), m2.Net.Skips())
			require.Equal(t, m.Loss, m2.Loss)
			for i := range theta {
				require.Equal(t, math.Float64bits(theta[i]), math.Float64bits(theta2[i]), "θ[%d]", i)
			}
		}
	})
}
