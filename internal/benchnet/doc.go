// Package benchnet builds the networks and batches that the benchmarks of
// docs/benchmarks.md time: the tanh perceptrons on the digits that
// curvature's, approx's and secondorder's benchmarks share, and the
// LeNet-style network on MNIST that curvature and secondorder time and
// docs/bench/torch_lenet.py times in PyTorch. Built once here, every
// package times the same network.
package benchnet
