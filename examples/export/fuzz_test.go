package main

import (
	"testing"
)

// FuzzParseModel: any bytes give a checked model or an error, never a
// panic; a model that parses has as many parameters as its network.
func FuzzParseModel(f *testing.F) {
	f.Add([]byte(`{"sizes": [2, 3, 1], "activations": ["tanh", "identity"], "loss": "mse", "params": [1,2,3,4,5,6,7,8,9,10,11,12,13]}`))
	f.Add([]byte(`{"sizes": [1, 2], "activations": ["relu"], "loss": "softmax_ce", "params": [0.5, -1e300, null, 4]}`))
	f.Add([]byte(`{"sizes": [-1, 2], "activations": [""], "loss": "bce", "params": []}`))
	f.Add([]byte("{\"sizes\": [1, 1],\n\"loss\": 1e999}"))
	f.Add([]byte("\ufeff{\"sizes\": [1, 1], \"activations\": [\"tanh\"], \"loss\": \"mse\", \"params\": [1, 2]}"))
	f.Add([]byte(`{"sizes": [1, 1], "activations": ["tanh"], "loss": "mse", "params": [1, 2], "Loss": "mse"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		lm, err := parseModel(raw)
		if err != nil {
			return
		}
		if len(lm.theta) != lm.model.Net.NumParams() {
			t.Fatalf("θ has %d values for %d parameters", len(lm.theta), lm.model.Net.NumParams())
		}
		if len(lm.sizes) < 2 || lm.model.Net.InSize() != lm.sizes[0] || lm.model.Net.OutSize() != lm.sizes[len(lm.sizes)-1] {
			t.Fatalf("sizes %v for a %d→%d network", lm.sizes, lm.model.Net.InSize(), lm.model.Net.OutSize())
		}
	})
}
