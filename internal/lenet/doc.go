// Package lenet builds the LeNet-style network and the MNIST batch that the
// benchmarks of docs/benchmarks.md time in curvature and secondorder, and
// docs/bench/torch_lenet.py in PyTorch, so that the packages' benchmarks
// and the reference time the same network.
package lenet
