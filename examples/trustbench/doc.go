// Command trustbench runs the trust-region methods of package secondorder
// on 25 instances of the Moré–Garbow–Hillstrom test functions
// (testfunc.MoreGarbowHillstrom: gonum's functions with exact Hessians,
// from their standard starting points) to ‖∇f‖∞ < 10⁻⁶ and prints, per
// instance, the function evaluations each method needed beside those of
// its SciPy counterpart: Exact beside trust-exact, Steihaug beside
// trust-ncg, Dogleg beside dogleg and GLTR beside trust-krylov.
//
// SciPy's counts were measured by scipy_trust.py, in this directory, under
// the same conditions (see scipyRuns); the program does not run Python.
//
//	go run ./examples/trustbench
//	go run ./examples/trustbench -only 'Rosenbrock|Wood' -detail
package main
