package nn_test

import (
	"encoding/json"
	"fmt"
	"log"

	"github.com/curvkit/curvkit/curvature/nn"
)

// A network described in PyTorch's terms: the shape goes from the input
// through the layers, so no layer repeats the height and width it gets,
// and a size that does not match is an error naming the layer and field.
// Describe gives the description back, with the defaults written out.
func ExampleDescription_Network() {
	var d nn.Description
	err := json.Unmarshal([]byte(`{"input_shape": [1, 6, 6], "layers": [
		{"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1},
		{"type": "relu"},
		{"type": "maxpool2d", "kernel_size": 2},
		{"type": "flatten"},
		{"type": "residual", "layers": [{"type": "layernorm", "normalized_shape": 18}, {"type": "linear", "in_features": 18, "out_features": 18}]},
		{"type": "linear", "in_features": 18, "out_features": 3}]}`), &d)
	if err != nil {
		log.Fatal(err)
	}
	net, err := d.Network()
	if err != nil {
		log.Fatal(err)
	}
	for k, l := range net.Layers {
		fmt.Printf("layer %d: %T, %d→%d, %d parameters\n", k, l, l.InSize(), l.OutSize(), l.NumParams())
	}
	fmt.Println("skip edges:", net.Skips())

	back, err := nn.Describe(net)
	if err != nil {
		log.Fatal(err)
	}
	conv, _ := json.Marshal(back.Layers[0])
	fmt.Println(string(conv))

	d.Layers[5].InFeatures = new(int)
	*d.Layers[5].InFeatures = 20
	_, err = d.Network()
	fmt.Println(err)
	// Output:
	// layer 0: nn.Conv2d, 36→72, 20 parameters
	// layer 1: nn.Elementwise, 72→72, 0 parameters
	// layer 2: nn.MaxPool2d, 72→18, 0 parameters
	// layer 3: nn.Flatten, 18→18, 0 parameters
	// layer 4: nn.LayerNorm, 18→18, 36 parameters
	// layer 5: nn.Dense, 18→18, 342 parameters
	// layer 6: nn.Dense, 18→3, 57 parameters
	// skip edges: [{4 5}]
	// {"type":"conv2d","in_channels":1,"out_channels":2,"kernel_size":[3,3],"stride":[1,1],"padding":[1,1]}
	// nn: layers[5] (linear): "in_features" is 20 but its input is a vector of 18 features
}
