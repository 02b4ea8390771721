// Command kfac trains a digits autoencoder with K-FAC and with Adam from the
// same initialisation and prints which reaches Adam's best training loss
// first, in steps and in optimizer seconds.
//
//	go run ./examples/kfac
//	go run ./examples/kfac -steps 500 -seed 2
//
// examples/kfacbench is the benchmark behind the figures: tuning grids,
// other optimizers and tasks, a CSV file of your own, plots and runs.csv.
package main
