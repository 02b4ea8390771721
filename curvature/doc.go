// Package curvature builds the curvature matrices of second-order
// optimization, dense and as matrix-free products, for small neural networks
// (see the nn sub-package) and for plain smooth functions.
//
// # Parameters
//
// Parameters are one flat []float64 θ. Layer l of a multi-layer perceptron
// maps a_{l-1} (size in) to s_l = W_l a_{l-1} + b_l (size out) and
// a_l = φ_l(s_l); its parameters are the row-major flattening of the
// augmented matrix [W_l | b_l] (out × (in+1)), so neuron o's incoming weights
// followed by its bias are contiguous, and layers are concatenated in order.
// With ā = [a; 1], the K-FAC block of layer l is kron(G_l, A_l).
//
// # The five matrices
//
// For a batch of N samples with per-sample loss ℓ_i on the network output
// z_i (logits) and sample weights w_i ≥ 0 (Batch.W; 1 each when nil),
// W = Σ w_i, the batch loss is the weighted mean L = Σ w_i ℓ_i / W, and
// every matrix is the same weighted mean over the batch:
//
//	Hessian              H  = ∇²_θ L
//	generalized Gauss-Newton G = Σ w_i J_iᵀ H_z,i J_i / W,   J_i = ∂z_i/∂θ
//	Fisher               F  = Σ w_i J_iᵀ F_z,i J_i / W,   F_z,i = E_{y~p(y|z_i)}[∇_zℓ ∇_zℓᵀ]
//	empirical Fisher     EF = Σ w_i g_i g_iᵀ / W,  g_i = ∇_θ ℓ_i at the true label
//	gradient covariance  C  = Σ w_i (g_i − ḡ)(g_i − ḡ)ᵀ / W = EF − ḡḡᵀ,  ḡ = Σ w_i g_i / W
//
// With uniform weights these are the plain means (W = N); a weight of 0
// drops its sample and an integer weight counts it that many times, so
// every matrix of a weighted batch is that of the batch with its rows
// repeated. The Monte-Carlo Fisher with k sampled labels per input is an
// unbiased estimate of F, weighted alike, and so are K-FAC's factors in
// package approx.
//
// The output curvature H_z,i = ∇²_z ℓ(z_i, y_i) may depend on the target.
// For MSE, softmax cross-entropy and sigmoid binary cross-entropy it does
// not, and F_z = H_z: each is the negative log-likelihood of an exponential
// family in its natural parameter z, so F = G exactly. A loss for which
// this fails says so by implementing nn.FisherLoss, whose output Fisher
// the Fisher takes (Model.Dense, Operator, Diagonal and GGNFactor):
// class-weighted cross-entropy (H_z = w_y(diag(p) − ppᵀ), F_z =
// Σ_k p_k w_k² (p − e_k)(p − e_k)ᵀ) and the Gaussian negative
// log-likelihood with a learned variance, whose H_z, and so G, is
// indefinite while F is positive semi-definite. For a linear network with
// the MSE loss, H = G.
//
// # Dense matrices, blocks, diagonals and operators
//
// Model.Dense returns a matrix as a *mat.SymDense (Model.DenseTo builds it
// into one the caller holds), Model.Block one layer's diagonal block and
// Model.Diagonal its diagonal, none of them forming more than it returns.
// For an MLP the Hessian and GGN are assembled from per-sample Kronecker
// structure: the block of layers (m, l) is
// Σ_i (M_s,m J_{m←l})_i ⊗ ā_m,i ā_l,iᵀ (plus, for the Hessian, a cross term),
// M_s the per-sample second derivative in the pre-activations, matrix
// products with inner dimension N written straight into the result.
// Options.Workers goroutines share the result, each filling parts of it: the
// memory is the result's plus per-layer work space, and the numbers are the
// same bit for bit whatever the number of workers. Options.Progress, if set,
// hears of the parts of a build as they complete. Model.DenseSum returns
// the unnormalised Sum over the samples, which merges exactly with sums over
// other samples.
//
// Model.Operator returns the same matrices matrix-free: they satisfy
// Operator (Dim, MulVecTo), and MatMuler for blocks of vectors, so a solver
// takes either. Restrict(op, lo, hi) is the diagonal block [lo, hi) of any
// operator as an operator — with the ranges of Model.ParamBlocks, a layer's
// block matrix-free (spectral's per-layer traces and eigenvalues use it).
// Before anything dense is built its size, n² floats, is
// checked against the caller's budget; a request over the budget is a
// *BudgetError saying how much it would have taken.
//
// # Per-sample statistics
//
// Model.GradientStats gives BackPACK's first-order statistics from one
// backward pass: the batch gradient, every sample's ‖g_i‖², Σ w_i g_i ⊙ g_i
// and the gradient variance per parameter. Model.GGNFactor gives V with
// V Vᵀ = G (the backpropagated columns of the output-Hessian factors), F
// (those of the output Fisher's) or the Monte-Carlo Fisher (sampled-label
// gradients), P×(N·c), for low-rank methods that work with a square root;
// an indefinite G has none, and asking for it is an error.
//
// # Model files and predictions
//
// ReadModel reads a model and θ from model.json: its general form is an
// nn.Description (the input shape and the layers in PyTorch's terms) with
// the loss's name and θ, its MLP form the widths and activations of an MLP.
// WriteModel writes the general form and WriteModelMLP the MLP form, θ to
// the last bit. Model.Outputs gives the network's outputs (logits),
// Model.Predict the most probable target, Model.Probabilities the label
// probabilities and Model.Accuracy the fraction of a batch predicted, for
// losses that implement nn.Predictor and nn.Classifier.
//
// # Plain functions
//
// Objective is a smooth function with its gradient; Hessianer and HessVecer
// add exact second derivatives. FromProblem adapts a gonum optimize.Problem
// (and so the test functions of gonum's optimize/functions), falling back on
// finite differences (gonum diff/fd) when derivatives are missing.
//
// # Concurrency
//
// A Model, its network and its loss may be shared by any number of
// goroutines: every method builds its own tapes and work space, and Dense
// and Diagonal start goroutines of their own. So may the operators of
// Model.Operator and NewDense: an operator's products take turns (a mutex
// around the work space of the stored passes costs nothing measurable on
// one goroutine), so for products in parallel build one operator per
// goroutine. Options with a Rand must not be shared while in use: a
// *rand.Rand is not safe for concurrent use. A NetObjective keeps a tape
// and a Sum is changed by Merge: one goroutine at a time each, like
// HessianOperator of a NetObjective; a Function is as safe as the
// functions it holds.
//
// # Errors
//
// A shape mismatch between values the caller built panics with a
// "curvature: " message, as package mat does. Bad data (NaN or Inf, empty
// batches, labels out of range, sample weights that are negative or sum to
// 0) and budgets return errors.
package curvature
