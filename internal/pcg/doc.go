// Package pcg is the preconditioned conjugate-gradient iteration that
// curvkit's solvers share: secondorder's linear solves, Steihaug–Toint and
// Hessian-free, and the inverse operators of curvature/inverse. It holds
// the vectors and scalars of one iteration and leaves the loop, and the
// exits, to its callers.
package pcg
