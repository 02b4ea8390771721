// Command kfacbench benchmarks K-FAC against first-order baselines tuned
// over a learning-rate grid (and against Hessian-free and natural gradient)
// on the embedded digits, MNIST or a CSV file, reports which reaches a
// target training loss first, in steps and in optimizer seconds, and writes
// runs.csv and two loss plots.
//
//	go run ./examples/kfacbench                      # digits autoencoder 64-48-32-16-32-48-64
//	go run ./examples/kfacbench -task classify       # digits classifier 64-32-10
//	go run ./examples/kfacbench -task cnn            # convolutional net on the digits as 1×8×8 images
//	go run ./examples/kfacbench -task cnn -mnist     # LeNet-style net on MNIST
//	go run ./examples/kfacbench -task resmlp         # residual MLP with LayerNorm on the digits
//	go run ./examples/kfacbench -data iris.csv       # a CSV file: inputs, then a class index
//	go run ./examples/kfacbench -h                   # every flag
//
// Every optimizer is a secondorder.Optimizer, built by name in one
// function. See README.md beside this file for what the output shows, and
// examples/kfac for the short program that prints the headline comparison.
package main
