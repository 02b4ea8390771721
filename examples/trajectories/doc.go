// Command trajectories draws the paths of the first-order optimizers of
// package firstorder on three functions of two variables — Beale's function,
// a long narrow valley (Rosenbrock's function) and a saddle point — as PNG
// pictures over the functions' contours, and writes the paths as CSV.
//
//	go run ./examples/trajectories [-out DIR]
//
// On Beale's function and the valley each optimizer runs with the learning
// rate from a grid (1e-4 … 1) that ends lowest; on the saddle all use 0.01.
package main
