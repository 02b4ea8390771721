// Package testfunc completes gonum's optimization test functions with the
// second derivatives gonum does not provide, so that Newton-type methods
// can be tested and compared on them.
//
// ExtendedRosenbrock is f(x) = Σ_{i<n−1} (1 − x_i)² + 100(x_{i+1} − x_i²)²,
// gonum's functions.ExtendedRosenbrock, whose Hessian is tridiagonal:
//
//	H_ii     = [i < n−1](1200x_i² − 400x_{i+1} + 2) + [i > 0]·200,
//	H_i,i+1  = −400x_i.
package testfunc
