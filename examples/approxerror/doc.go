// Command approxerror trains a small network on the digits with Adam and,
// every few steps, measures how far each curvature approximation of package
// approx is from the exact matrices: the diagonal, the per-layer
// block-diagonal, K-FAC, EKFAC and the Kronecker-optimal layer blocks
// against the Hessian, the GGN and the empirical Fisher, and an online TONGA
// against the empirical Fisher. It appends every number to one tidy CSV and
// draws the relative Frobenius errors against the training step.
//
//	go run ./examples/approxerror [-out DIR] [-steps N] [-every K] [-seed S]
//
// writes DIR/errors.csv (step,matrix,approximation,metric,value),
// DIR/loss.csv and DIR/errors.png. See README.md.
package main
