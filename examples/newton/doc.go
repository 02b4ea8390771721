// Command newton compares first- and second-order methods on the
// Rosenbrock function: gradient descent with a backtracking line search,
// damped Newton (Levenberg–Marquardt and line-search variants), the trust
// region with each subproblem solver, and gonum's BFGS and Newton. It
// prints, per start, the work each needs to reach ‖∇f‖∞ < 1e-8.
//
//	go run ./examples/newton
package main
