// Package approx approximates a symmetric curvature matrix M (Hessian,
// generalized Gauss-Newton, Fisher, empirical Fisher, gradient covariance;
// see package curvature) by structured matrices M̃ that are cheap to store,
// multiply and invert, and measures how far they are from M.
//
// # One interface
//
// An Approximation is a curvature.Operator that also solves damped systems,
// (M̃ + λI)⁻¹v, through its structure: the curvature.DampedSolver that the
// solvers and optimizers of package secondorder take. Trace, LogDet and
// Dense use an approximation's own methods when it has them and products
// otherwise; every approximation here has them, computed in the manner of
// curvlinops from the structure (a block diagonal sums or concatenates its
// blocks', a Kronecker product works on its factors), and Floats, its size
// in float64 values to compare with n². Inverse wraps (M̃ + λI)⁻¹ as an
// operator. Constructors check a budget in floats before they allocate and
// refuse with a *curvature.BudgetError; solves of matrices that are not
// positive definite return errors wrapping curvature.ErrNotPositiveDefinite.
//
// # The approximations
//
// A Kronecker layer's parameters are the row-major p×q matrix X = [W | b]
// (p = out, q = in+1 for a dense layer), layers in order.
//
//	Diagonal       M̃ = diag(d): the exact diagonal (DiagonalOf, ModelDiagonal),
//	               or, for an operator known only through its products,
//	               NewDiagonal of spectral.Hutchinson's estimate.
//	BlockDiagonal  M̃[I_b,I_b] = B_b, zero between blocks, for any partition
//	               (Ranges; Partition for per-layer and per-neuron blocks);
//	               blocks are any Approximation (SymMatrix for dense ones,
//	               Cholesky cached per λ). Sparse gives the CSR matrix.
//	Kron, KFAC     block l = G_l ⊗ A_l, entry ((o,j),(o',j')) = G[o,o']·A[j,j'],
//	               (G⊗A) vec(X) = vec(G X Aᵀ): O(pq(p+q)) products, p² + q²
//	               floats instead of p²q².
//	EigenKron,     block l = (Q_G⊗Q_A) diag(s) (Q_G⊗Q_A)ᵀ, K-FAC's eigenbasis
//	EKFAC          with scales re-estimated in it (George et al. 2018): the
//	               diagonal of Qᵀ M Q, the best diagonal in that basis.
//	NearestKroneckerOf  G⊗A nearest a block B in Frobenius norm (Van Loan &
//	               Pitsianis 1993): the top singular pair of the rearrangement
//	               R(B)[(o,o'),(j,j')] = B[(o,j),(o',j')].
//	LowRank        M̃ = c U Uᵀ + diag(d), solved through m×m matrices.
//	TONGA          Le Roux, Manzagol & Bengio (2008): per block, the discounted
//	               gradient covariance kept at rank k, plus a residual diagonal.
//
// Constructors follow one rule: NewX from parts, XOf from a matrix (and
// EKFACOf from a K-FAC basis and a matrix), ModelX from a curvature.Model,
// parameters and a batch, without forming the P×P matrix.
//
// # Damping
//
// SolveDampedTo(dst, v, λ) applies (M̃ + λI)⁻¹ — except for a Kronecker block
// with FactoredDamping, which applies ((G + (√λ/π) I) ⊗ (A + π√λ I))⁻¹ with
// π = √((tr A/q)/(tr G/p)) (Martens & Grosse 2015, §6.3); LogDet reports
// the log-determinant of the matrix actually inverted. Exact damping goes
// through the factors' eigendecompositions,
//
//	(G⊗A + λI)⁻¹ = (Q_G⊗Q_A) diag(1/(λ_G,i λ_A,j + λ)) (Q_G⊗Q_A)ᵀ,
//
// applied as X ↦ Q_G [(Q_Gᵀ X Q_A) ⊘ (λ_G λ_Aᵀ + λ)] Q_Aᵀ. Factored damping
// can instead invert the two damped factors (CholeskySolver), which is
// cheaper to refresh.
//
// # From a network
//
// K-FAC is built per layer through the interfaces of package nn: a layer
// that is nn.Kronecker gives its inputs ā per weight-sharing position and
// the gradients g in its outputs, so A = E[āāᵀ] and G = E[ggᵀ], with g
// backpropagated from the columns of the output-Hessian factor, from
// sampled labels or from the true labels (FactorKind); any other layer's
// block is the exact block of the matrix those statistics estimate, dense
// or diagonal as nn.StructureOf says. One statistics pass serves ModelKFAC,
// ModelEKFAC and KFAC.Update, which folds a batch into running averages in
// place as an optimizer does; the damped inverse stays until Factorize
// refreshes it (K-FAC's amortisation). KFAC.MarshalBinary and
// UnmarshalBinary save and restore all of that state exactly, for an
// optimizer that resumes. ModelDiagonal,
// ModelBlockDiagonal, ModelNearestKronecker and ModelTONGA (TONGAFeed for a
// stream of batches) complete the set; ModelMemory tells what each will
// hold from the network's shapes alone.
//
// # Errors of an approximation
//
// Compare measures M̃ against M: ‖M̃−M‖_F/‖M‖_F from products with blocks of
// unit vectors, ‖M̃−M‖₂/‖M‖₂ and the top-k eigenvalues of both, and the
// damped solve of a gradient: ‖x̃−x‖/‖x‖ and cos∠(x̃, x) with x = (M+λI)⁻¹g,
// x̃ = (M̃+λI)⁻¹g. The spectral metrics use a dense eigensolver up to
// MetricSettings.DenseLimit and spectral.Lanczos (full
// reorthogonalisation, seeded by MetricSettings.Seed) above it.
// Comparison.Records turns the metrics into rows of a tidy table,
//
//	step,matrix,approximation,metric,value
//
// which WriteRecords writes and ReadRecords reads (values with the fewest
// digits that parse back to the same float64; NaN and ±Inf as NaN, +Inf,
// -Inf). Files go through curvature/data's atomic writer.
//
// # Concurrency
//
// Approximations guard their caches and work space with a mutex, so their
// methods may be called from several goroutines (they then serialise).
// KFAC.Update, KFAC.Factorize, KFAC.UnmarshalBinary and TONGA.Add change
// an approximation and must not run beside anything else on it; a
// TONGAFeed, which keeps a tape, serves one goroutine at a time. Functions
// that build an approximation (ModelKFAC, DiagonalOf, …) and the metrics
// may run at once on shared inputs, unless their settings share a
// *rand.Rand.
package approx
