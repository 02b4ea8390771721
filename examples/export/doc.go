// Command export writes the curvature of a small network on a data set as
// CSV files for notebooks (pandas, polars, R): the gradient, the five
// curvature matrices, the K-FAC factors of every layer, and a tidy table of
// how far each approximation is from each matrix it approximates.
//
//	go run ./examples/export -model model.json -data data.csv -out DIR [-kfac exact|mc|empirical] [-samples K] [-seed S]
//
// model.json describes a multi-layer perceptron and its parameters:
//
//	{"sizes": [4, 6, 3], "activations": ["tanh", "identity"],
//	 "loss": "mse" | "softmax_ce" | "sigmoid_bce", "params": [...]}
//
// with params in the project's layout: each layer's row-major [W | b]
// (out × (in+1)), layers concatenated. data.csv has no header; a row is the
// inputs followed by the target (a class index for softmax_ce, the output
// values otherwise). See README.md for the files written and docs/export.md
// for exporting a PyTorch model.
package main
