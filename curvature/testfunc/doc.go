// Package testfunc completes gonum's optimization test functions with the
// second derivatives gonum does not provide, or provides wrongly, so that
// Newton-type methods can be tested and compared on them, and collects the
// Moré–Garbow–Hillstrom instances the trust-region methods are measured on
// (MoreGarbowHillstrom).
//
// Each type embeds gonum's function (its Func, Grad and Minima) and adds
// Hess. Most are sums of squares f = Σ r_k², whose Hessian is
// 2Σ(∇r_k ∇r_kᵀ + r_k ∇²r_k), written out from gonum's residuals. Every
// Hessian here and every one of gonum's that the set uses is checked
// against central differences of gonum's gradient in the tests; gonum
// v0.17.0's Beale.Hess fails that check (it puts x₁ where x₀ belongs: at
// (3, 1/2) its off-diagonal is −1.906, the true value −11.4375), so Beale
// here replaces it. Do not trust a Hessian that has not been checked.
//
// ExtendedRosenbrock is f(x) = Σ_{i<n−1} (1 − x_i)² + 100(x_{i+1} − x_i²)²,
// gonum's functions.ExtendedRosenbrock, whose Hessian is tridiagonal:
//
//	H_ii     = [i < n−1](1200x_i² − 400x_{i+1} + 2) + [i > 0]·200,
//	H_i,i+1  = −400x_i.
package testfunc
