// Command spectrum estimates the eigenvalue density of a small network's
// Hessian and generalized Gauss-Newton matrix on the embedded digits by
// stochastic Lanczos quadrature (package curvature/spectral), from
// matrix-free products alone, and writes the densities as a tidy CSV and
// a PNG.
//
//	go run ./examples/spectrum [-out DIR] [-hidden H] [-samples N] [-train T] [-lr R] [-steps S] [-probes K] [-seed N]
//
// writes DIR/density.csv (matrix,eigenvalue,density) and
// DIR/density.png. See README.md.
package main
