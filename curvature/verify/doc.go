// Package verify checks a layer, a loss or a whole model against
// independent oracles, so that a new layer type can be trusted the way the
// toolkit's own are: its Jacobian products against finite differences, the
// transposed products against the adjoint identity, the second-order term
// against differences of the first-order one, a loss's output Hessian and
// signed factor against S₊S₊ᵀ − S₋S₋ᵀ = H_z and its output Fisher
// E_y[∇ℓ ∇ℓᵀ] — exactly, by enumerating labels or Gauss–Hermite quadrature,
// and through its sampler — against the factor of an nn.FisherLoss or H_z,
// and a model's matrices against the identities that must hold between
// them (the Fisher through sampled labels and its factor, EF − ḡḡᵀ = C,
// symmetry, positive semi-definiteness, K-FAC exact on one sample).
//
// Each function returns a Report: one Check per property with the measured
// error and its tolerance, printable as a table, and Report.Err is non-nil
// when a check fails:
//
//	rep := verify.Layer(myLayer, 5, rand.New(rand.NewPCG(1, 1)), nil)
//	fmt.Print(rep)
//	if err := rep.Err(); err != nil { ... }
//
// Finite differences are central, with step h = 1e-5 by default; their
// error is O(h²) plus rounding O(ε/h), so tolerances are relative and
// about 1e-6. Statistical checks use a fixed number of samples and a bound
// of several standard errors.
package verify
