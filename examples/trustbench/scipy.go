package main

// scipyRun is what one of SciPy's trust-region methods did on one
// instance: its function, gradient and Hessian evaluations, and whether it
// reached ‖∇f‖∞ < 10⁻⁶.
type scipyRun struct {
	method, instance string
	fun, grad, hess  int
	converged        bool
}

// scipyRuns are SciPy 1.10.1's counts (NumPy 1.24.2, Debian 12's
// python3-scipy and python3-numpy), measured on 2026-12-06 with
// scipy_trust.py in this directory (`/usr/bin/python3
// examples/trustbench/scipy_trust.py -go` prints these lines):
// scipy.optimize.minimize with method trust-exact, trust-ncg, dogleg and
// trust-krylov, jac and hess the exact gradient and Hessian written out
// again in that script from gonum's definitions (checked there against
// central differences), the starting points of testfunc.MoreGarbowHillstrom,
// options gtol = 1e-6 and maxiter = 5000 and SciPy's defaults otherwise
// (initial radius 1, maximum radius 1000, η = 0.15, trust-krylov inexact).
// A callback ends a run at the first iterate with ‖∇f‖∞ < 10⁻⁶, the test
// of this program (SciPy's own gtol test is on ‖∇f‖₂); every call of the
// objective, gradient and Hessian functions is counted by wrappers around
// them, a gradient at a point already evaluated being served from a cache
// and not counted. converged is false where SciPy stopped before that
// test was met: dogleg raises on an indefinite Hessian ("A linalg error
// occurred"), and trust-exact on BrownAndDennis and trust-krylov on Gulf
// and PenaltyI-10 stop on "A bad approximation caused failure to predict
// improvement".
var scipyRuns = []scipyRun{
	{"trust-exact", "Beale", 9, 8, 9, true},
	{"trust-exact", "BrownBadlyScaled", 1011, 1011, 1011, true},
	{"trust-exact", "PowellBadlyScaled", 115, 99, 115, true},
	{"trust-exact", "ExtendedRosenbrock-2", 26, 23, 26, true},
	{"trust-exact", "ExtendedRosenbrock-10", 31, 27, 31, true},
	{"trust-exact", "ExtendedRosenbrock-100", 207, 180, 207, true},
	{"trust-exact", "HelicalValley", 10, 9, 10, true},
	{"trust-exact", "Gaussian", 3, 3, 3, true},
	{"trust-exact", "Box3D", 17, 17, 17, true},
	{"trust-exact", "Gulf", 25, 23, 25, true},
	{"trust-exact", "Wood", 44, 38, 44, true},
	{"trust-exact", "BrownAndDennis", 12, 11, 12, false},
	{"trust-exact", "ExtendedPowellSingular-4", 16, 16, 16, true},
	{"trust-exact", "ExtendedPowellSingular-100", 19, 19, 19, true},
	{"trust-exact", "BiggsEXP6", 39, 27, 39, true},
	{"trust-exact", "Watson-6", 13, 13, 13, true},
	{"trust-exact", "Watson-9", 13, 13, 13, true},
	{"trust-exact", "Trigonometric-10", 12, 10, 12, true},
	{"trust-exact", "Trigonometric-100", 19, 12, 19, true},
	{"trust-exact", "VariablyDimensioned-10", 15, 15, 15, true},
	{"trust-exact", "VariablyDimensioned-100", 27, 27, 27, true},
	{"trust-exact", "PenaltyI-10", 44, 39, 44, true},
	{"trust-exact", "PenaltyI-100", 47, 44, 47, true},
	{"trust-exact", "PenaltyII-10", 112, 97, 112, true},
	{"trust-exact", "PenaltyII-100", 20, 20, 20, true},
	{"trust-ncg", "Beale", 12, 12, 11, true},
	{"trust-ncg", "BrownBadlyScaled", 2011, 2011, 2010, true},
	{"trust-ncg", "PowellBadlyScaled", 65, 58, 57, true},
	{"trust-ncg", "ExtendedRosenbrock-2", 30, 27, 26, true},
	{"trust-ncg", "ExtendedRosenbrock-10", 86, 76, 75, true},
	{"trust-ncg", "ExtendedRosenbrock-100", 437, 378, 377, true},
	{"trust-ncg", "HelicalValley", 24, 22, 21, true},
	{"trust-ncg", "Gaussian", 3, 3, 2, true},
	{"trust-ncg", "Box3D", 18, 18, 17, true},
	{"trust-ncg", "Gulf", 44, 40, 39, true},
	{"trust-ncg", "Wood", 109, 99, 98, true},
	{"trust-ncg", "BrownAndDennis", 21, 21, 20, true},
	{"trust-ncg", "ExtendedPowellSingular-4", 21, 20, 19, true},
	{"trust-ncg", "ExtendedPowellSingular-100", 20, 20, 19, true},
	{"trust-ncg", "BiggsEXP6", 177, 151, 150, true},
	{"trust-ncg", "Watson-6", 15, 15, 14, true},
	{"trust-ncg", "Watson-9", 25, 24, 23, true},
	{"trust-ncg", "Trigonometric-10", 16, 12, 11, true},
	{"trust-ncg", "Trigonometric-100", 28, 19, 18, true},
	{"trust-ncg", "VariablyDimensioned-10", 15, 15, 14, true},
	{"trust-ncg", "VariablyDimensioned-100", 27, 27, 26, true},
	{"trust-ncg", "PenaltyI-10", 47, 40, 39, true},
	{"trust-ncg", "PenaltyI-100", 51, 47, 46, true},
	{"trust-ncg", "PenaltyII-10", 71, 57, 56, true},
	{"trust-ncg", "PenaltyII-100", 22, 22, 21, true},
	{"dogleg", "Beale", 1, 1, 1, false},
	{"dogleg", "BrownBadlyScaled", 3, 3, 3, false},
	{"dogleg", "PowellBadlyScaled", 1, 1, 1, false},
	{"dogleg", "ExtendedRosenbrock-2", 25, 22, 21, true},
	{"dogleg", "ExtendedRosenbrock-10", 5, 5, 5, false},
	{"dogleg", "ExtendedRosenbrock-100", 6, 6, 6, false},
	{"dogleg", "HelicalValley", 1, 1, 1, false},
	{"dogleg", "Gaussian", 3, 3, 2, true},
	{"dogleg", "Box3D", 1, 1, 1, false},
	{"dogleg", "Gulf", 1, 1, 1, false},
	{"dogleg", "Wood", 8, 8, 8, false},
	{"dogleg", "BrownAndDennis", 12, 11, 11, false},
	{"dogleg", "ExtendedPowellSingular-4", 17, 17, 16, true},
	{"dogleg", "ExtendedPowellSingular-100", 18, 18, 17, true},
	{"dogleg", "BiggsEXP6", 1, 1, 1, false},
	{"dogleg", "Watson-6", 13, 13, 12, true},
	{"dogleg", "Watson-9", 8, 8, 7, true},
	{"dogleg", "Trigonometric-10", 1, 1, 1, false},
	{"dogleg", "Trigonometric-100", 1, 1, 1, false},
	{"dogleg", "VariablyDimensioned-10", 15, 15, 14, true},
	{"dogleg", "VariablyDimensioned-100", 27, 27, 26, true},
	{"dogleg", "PenaltyI-10", 46, 39, 38, true},
	{"dogleg", "PenaltyI-100", 48, 44, 43, true},
	{"dogleg", "PenaltyII-10", 114, 98, 97, true},
	{"dogleg", "PenaltyII-100", 20, 20, 19, true},
	{"trust-krylov", "Beale", 11, 11, 10, true},
	{"trust-krylov", "BrownBadlyScaled", 1013, 1013, 1012, true},
	{"trust-krylov", "PowellBadlyScaled", 65, 72, 57, true},
	{"trust-krylov", "ExtendedRosenbrock-2", 39, 43, 34, true},
	{"trust-krylov", "ExtendedRosenbrock-10", 65, 75, 54, true},
	{"trust-krylov", "ExtendedRosenbrock-100", 307, 366, 247, true},
	{"trust-krylov", "HelicalValley", 13, 14, 11, true},
	{"trust-krylov", "Gaussian", 3, 3, 2, true},
	{"trust-krylov", "Box3D", 16, 16, 15, true},
	{"trust-krylov", "Gulf", 40, 45, 34, false},
	{"trust-krylov", "Wood", 86, 96, 75, true},
	{"trust-krylov", "BrownAndDennis", 19, 19, 18, true},
	{"trust-krylov", "ExtendedPowellSingular-4", 20, 20, 19, true},
	{"trust-krylov", "ExtendedPowellSingular-100", 20, 20, 19, true},
	{"trust-krylov", "BiggsEXP6", 126, 147, 104, true},
	{"trust-krylov", "Watson-6", 15, 15, 14, true},
	{"trust-krylov", "Watson-9", 16, 16, 15, true},
	{"trust-krylov", "Trigonometric-10", 13, 16, 9, true},
	{"trust-krylov", "Trigonometric-100", 23, 31, 14, true},
	{"trust-krylov", "VariablyDimensioned-10", 15, 15, 14, true},
	{"trust-krylov", "VariablyDimensioned-100", 27, 27, 26, true},
	{"trust-krylov", "PenaltyI-10", 45, 53, 36, false},
	{"trust-krylov", "PenaltyI-100", 49, 54, 43, true},
	{"trust-krylov", "PenaltyII-10", 54, 60, 47, true},
	{"trust-krylov", "PenaltyII-100", 20, 20, 19, true},
}
