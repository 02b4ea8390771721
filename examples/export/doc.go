// Command export writes the curvature of a small network on a data set as
// CSV files for notebooks (pandas, polars, R): the gradient, the five
// curvature matrices, the K-FAC factors of every layer with a Kronecker
// form (linear and convolutional layers), and a tidy table of
// how far each approximation is from each matrix it approximates.
//
//	go run ./examples/export -model model.json -data data.csv -out DIR [-kfac exact|mc|empirical] [-samples K] [-seed S]
//
// model.json is read by curvature.ReadModel: the general form describes
// any network in PyTorch's terms (nn.Description),
//
//	{"input_shape": [1, 8, 8],
//	 "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3], "padding": [1, 1]},
//	            {"type": "tanh"}, {"type": "avgpool2d", "kernel_size": [2, 2]}, {"type": "flatten"},
//	            {"type": "residual", "layers": [{"type": "layernorm", "normalized_shape": [32]}, {"type": "linear", "in_features": 32, "out_features": 32}]},
//	            {"type": "linear", "in_features": 32, "out_features": 10}],
//	 "loss": "softmax_ce", "params": [...]}
//
// and the MLP form a multi-layer perceptron,
//
//	{"sizes": [4, 6, 3], "activations": ["tanh", "identity"],
//	 "loss": "mse" | "softmax_ce" | "sigmoid_bce" | "gaussian_nll" | "weighted_softmax_ce", "params": [...]}
//
// with params in the project's layout: each layer's parameters in order (a
// linear layer's row-major [W | b], out × (in+1); a convolution's kernel in
// (C, kh, kw) order then its bias, per output channel; a layer norm's
// [γ; β]). data.csv has no header; a row is the inputs (an image flattened
// C×H×W) followed by the target (a class index for softmax_ce and
// weighted_softmax_ce, whose "class_weights" model.json gives, the D
// targets of gaussian_nll's 2D outputs, the output values otherwise). See README.md for the files written and docs/export.md
// for exporting a PyTorch model.
package main
