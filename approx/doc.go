// Package approx approximates a symmetric curvature matrix M (Hessian,
// generalized Gauss-Newton, Fisher, empirical Fisher, gradient covariance;
// see package curvature) by structured matrices M̃ that are cheap to store,
// multiply and invert, and measures how far they are from M.
//
// # One interface
//
// Every approximation is an Approximation: a curvature.Operator (Dim,
// MulVecTo) that also solves damped systems, (M̃ + λI)⁻¹v, and knows its
// trace, log-determinant and memory (Floats, in float64 values, to compare
// with n² for the dense matrix). In the manner of curvlinops, all of these
// come from the structure: a block-diagonal sums or concatenates its
// blocks', a Kronecker product works on its factors, and nothing n×n is
// formed except by Dense, which exists for comparisons at small sizes.
// Inverse wraps (M̃ + λI)⁻¹ as an operator. Constructors take a budget in
// floats and refuse with a *curvature.BudgetError before allocating more.
// Solves and log-determinants of matrices that are not positive definite
// return errors wrapping curvature.ErrNotPositiveDefinite, never panic.
//
// # The approximations
//
// Parameters follow the project's layout: layer l's parameters are the
// row-major p×q matrix X = [W | b] (p = out, q = in+1), layers in order.
//
//	Diagonal       M̃ = diag(d): the exact diagonal (DiagonalOf, ModelDiagonal),
//	               or, for an operator known only through its products,
//	               NewDiagonal of spectral.Hutchinson's estimate.
//	BlockDiagonal  M̃[I_b,I_b] = B_b, zero between blocks, for any partition
//	               (Ranges for contiguous per-layer or per-neuron blocks; index
//	               sets otherwise); blocks are any Approximation (SymMatrix for
//	               dense blocks, solved by Cholesky cached per λ). Sparse gives
//	               the CSR matrix.
//	Kron, KFAC     block l = G_l ⊗ A_l, entry ((o,j),(o',j')) = G[o,o']·A[j,j'].
//	               (G⊗A) vec(X) = vec(G X Aᵀ): products cost O(pq(p+q)), memory
//	               p² + q² instead of p²q².
//	EigenKron,     block l = (Q_G⊗Q_A) diag(s) (Q_G⊗Q_A)ᵀ, the K-FAC eigenbasis
//	EKFAC          with scales re-estimated in it (George et al. 2018):
//	               s = mean_i ((Q_G⊗Q_A)ᵀ g_i)² from per-sample gradients, where
//	               a layer's gradient δ āᵀ projects as (Q_Gᵀδ)(Q_Aᵀā)ᵀ; or
//	               s_k = q_kᵀ M q_k, the best diagonal in that basis.
//	NearestKronecker  G⊗A nearest a block B in Frobenius norm (Van Loan &
//	               Pitsianis 1993): the top singular pair of the rearrangement
//	               R(B)[(o,o'),(j,j')] = B[(o,j),(o',j')], ‖B − G⊗A‖_F² =
//	               ‖B‖_F² − σ₁².
//	LowRank        M̃ = c U Uᵀ + diag(d), solved through m×m matrices.
//	TONGA          Le Roux, Manzagol & Bengio (2008): per block, the discounted
//	               gradient covariance kept as X Xᵀ/W with at most k+b columns,
//	               compressed to rank k from the eigendecomposition of the small
//	               Gram matrix XᵀX; plus an optional residual diagonal.
//
// # Damping
//
// SolveDampedTo(dst, v, λ) applies (M̃ + λI)⁻¹ — except for K-FAC with
// FactoredDamping, which applies ((G + (√λ/π) I) ⊗ (A + π√λ I))⁻¹ with
// π = √((tr A/q)/(tr G/p)) (Martens & Grosse 2015, §6.3); LogDetDamped
// always reports the log-determinant of the matrix actually inverted.
// Exact damping goes through the factors' eigendecompositions,
//
//	(G⊗A + λI)⁻¹ = (Q_G⊗Q_A) diag(1/(λ_G,i λ_A,j + λ)) (Q_G⊗Q_A)ᵀ,
//
// applied as X ↦ Q_G [(Q_Gᵀ X Q_A) ⊘ (λ_G λ_Aᵀ + λ)] Q_Aᵀ. Factored damping can
// instead use Cholesky factorisations of the two damped factors
// (CholeskySolver), which are cheaper to refresh. The trace and
// log-determinant of a Kronecker block are tr G · tr A and
// q·log det G + p·log det A.
//
// Low-rank solves use Ũ = D_λ^(−1/2) U = QR (thin Householder QR) and
// c R Rᵀ = P diag(s) Pᵀ:
//
//	(D_λ + c U Uᵀ)⁻¹ v = D_λ^(−1/2) [(z − Y Yᵀz) + Y diag(1/(1+s)) Yᵀz],
//	z = D_λ^(−1/2) v, Y = Q P,
//
// the Woodbury identity arranged to stay backward stable when λ ≪ c‖U‖².
//
// # From a network
//
// For a curvature.Model, parameters θ and a batch, the approximations are
// built without forming the P×P matrix: KFACFactors (A = E[āāᵀ], G =
// E[δδᵀ] with δ backpropagated from the columns of the output-Hessian
// factor, from sampled labels, or from the true labels: FactorKind) and
// KFACOf; EKFACOf (K-FAC's basis, scales from the per-layer rank-one
// gradients δāᵀ); ModelDiagonal (exact diagonals); ModelBlockDiagonal per
// layer or per neuron (Partition); ModelNearestKronecker (the nearest
// Kronecker product to each exact layer block); and TONGAFeed,
// which streams per-sample gradients into TONGA. TapeFactors and TapeEKFAC
// reuse a tape that has already run forward, and UpdateTapeFactors folds a
// tape's statistics into running averages F ← εF + (1−ε)F_batch in place,
// as an optimizer does every step.
//
// # Errors of an approximation
//
// Compare measures M̃ against M: ‖M̃−M‖_F/‖M‖_F from products with blocks of
// unit vectors (no dense M̃), ‖M̃−M‖₂/‖M‖₂ and the top-k eigenvalues of
// both, and the damped solve of a gradient: ‖x̃−x‖/‖x‖ and cos∠(x̃, x)
// with x = (M+λI)⁻¹g, x̃ = (M̃+λI)⁻¹g. The spectral metrics use a dense
// eigensolver up to MetricSettings.DenseLimit and spectral.Lanczos (full
// reorthogonalisation, seeded by MetricSettings.Seed) above it.
//
// # Files
//
// Comparison.Records turns the metrics into rows of a tidy table
//
//	step,matrix,approximation,metric,value
//
// one value per row, values with the fewest digits that parse back to the
// same float64 (strconv 'g', -1; NaN and ±Inf as NaN, +Inf, -Inf).
// WriteRecords and RecordLog.Append write atomically (temporary file in the
// same directory, fsync, rename), so a crash leaves the previous file, not
// half a line; ReadRecords reads it back. WriteMatrixCSV and WriteVectorCSV
// write dense values the same way, without a header.
//
// # Concurrency
//
// Approximations guard their caches and work space with a mutex, so their
// methods may be called from several goroutines (they then serialise).
// TONGA.Add and the EKFACScaling accumulator are not safe for concurrent
// use; give each goroutine its own EKFACScaling and Merge them.
package approx
