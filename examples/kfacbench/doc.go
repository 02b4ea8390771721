// Command kfac trains a small network on the embedded digits with K-FAC and
// with first-order baselines tuned over a learning-rate grid, and reports
// which reaches a target training loss first, in steps and in wall-clock
// seconds.
//
//	go run ./examples/kfac                      # digits autoencoder 64-48-32-16-32-48-64
//	go run ./examples/kfac -task classify       # digits classifier
//	go run ./examples/kfac -h                   # every flag
//
// See README.md beside this file for what the output shows.
package main
