// Package approx approximates a symmetric curvature matrix M (Hessian,
// generalized Gauss-Newton, Fisher, empirical Fisher, gradient covariance;
// see package curvature) by structured matrices M̃ that are cheap to store,
// multiply and invert, and measures how far they are from M.
//
// An Approximation is a curvature.Operator that also solves damped systems,
// (M̃ + λI)⁻¹v, through its structure: the curvature.DampedSolver that the
// solvers of package secondorder and curvature/inverse take. Trace, LogDet
// and Dense use an approximation's own methods, computed from the structure,
// and products otherwise. Constructors check a budget in floats before they
// allocate (*curvature.BudgetError); solves of matrices that are not positive
// definite return errors wrapping curvature.ErrNotPositiveDefinite.
//
// # The approximations
//
// A Kronecker layer's parameters are the row-major p×q matrix X = [W | b]
// (p = out, q = in+1 for a dense layer), layers in order.
//
//	Diagonal       diag(d): the exact diagonal, or NewDiagonal of an estimate
//	BlockDiagonal  M̃[I_b,I_b] = B_b, zero between blocks, any Approximation
//	               per block (SymMatrix for dense ones); Sparse gives its CSR
//	Kron, KFAC     G⊗A per layer, entry ((o,j),(o',j')) = G[o,o']·A[j,j']:
//	               p² + q² floats instead of p²q²
//	EigenKron,     (Q_G⊗Q_A) diag(s) (Q_G⊗Q_A)ᵀ, K-FAC's eigenbasis with the
//	EKFAC          best diagonal in it (George et al. 2018)
//	NearestKroneckerOf  G⊗A nearest a block in Frobenius norm (Van Loan &
//	               Pitsianis 1993): the top singular pair of the rearrangement
//	               R(B)[(o,o'),(j,j')] = B[(o,j),(o',j')]
//	LowRank        c U Uᵀ + diag(d), solved through m×m matrices
//	TONGA          Le Roux et al. (2008): the discounted gradient covariance
//	               per block at rank k, plus a residual diagonal
//
// Constructors follow one rule: NewX from parts, XOf from a matrix, ModelX
// from a curvature.Model, parameters and a batch, without forming the P×P
// matrix. ModelMemory tells what each will hold from the network's shapes.
//
// K-FAC approximates the Fisher per layer: an nn.Kronecker layer gives its
// inputs ā per weight-sharing position and the gradients g in its outputs,
// A = E[āāᵀ], G = E[ggᵀ] (weighted means with sample weights), g from the
// columns of the output Fisher's factor, sampled labels or true labels
// (FactorKind); any other layer's block is the exact block of the matrix
// those statistics estimate, dense or diagonal as nn.StructureOf says.
//
// # Damping
//
// SolveDampedTo(dst, v, λ) applies (M̃ + λI)⁻¹, except for a Kronecker block
// with FactoredDamping, which applies ((G + (√λ/π) I) ⊗ (A + π√λ I))⁻¹ with
// π = √((tr A/q)/(tr G/p)) (Martens & Grosse 2015, §6.3); LogDet reports the
// log-determinant of the matrix actually inverted. Exact damping goes through
// the factors' eigendecompositions,
//
//	(G⊗A + λI)⁻¹ = (Q_G⊗Q_A) diag(1/(λ_G,i λ_A,j + λ)) (Q_G⊗Q_A)ᵀ;
//
// factored damping can instead invert the two damped factors
// (CholeskySolver), which is cheaper to refresh.
//
// # Errors of an approximation
//
// Compare measures M̃ against M: the relative Frobenius and spectral errors,
// the top-k eigenvalues of both, and the relative error and cosine of the
// damped solve of a gradient; Comparison.Records and ExactRecords turn them
// into rows of the tidy table data.WriteRecords writes.
//
// # Concurrency
//
// Approximations guard their caches with a mutex, so their methods may be
// called from several goroutines (they then serialise). KFAC.Update,
// KFAC.Factorize, KFAC.UnmarshalBinary and TONGA.Add change an approximation
// and must not run beside anything else on it; a TONGAFeed serves one
// goroutine at a time. Constructors and metrics may run at once on shared
// inputs unless their settings share a *rand.Rand.
package approx
