// Package nn is the neural-network side of curvkit: layers with their
// Jacobian products, losses with their output Hessians, and a Tape that runs
// a batch forward and backward and takes the exact products every curvature
// matrix is built from.
//
// # Networks and parameters
//
// A Network is a chain of Layers holding structure only; parameters are a
// flat []float64 θ passed to every call. NewMLP builds Dense (affine) layers,
// each followed by an Elementwise activation unless the activation is the
// identity. Dense layer l maps a (size In) to s = W a + b (size Out); its
// parameters are the row-major flattening of [W | b] (Out × (In+1)), so
// neuron o's weights then its bias are contiguous, and layers are
// concatenated in order. With ā = [a; 1] the layer's gradient on one sample
// is the outer product δ āᵀ, δ = ∂ℓ/∂s, and its K-FAC block is kron(G, A).
//
// # Layer normalisation and residual blocks
//
// LayerNorm normalises each group of D consecutive features of a row (D
// the whole row, or the last dimension W of a C×H×W tensor) as
// torch.nn.LayerNorm(D) does, x̂ = (x − μ)/√(σ² + ε) with the biased
// variance, then applies y = γ ⊙ x̂ + β; its parameters are [γ; β] (2D),
// and its block is dense (Structurer): it has no Kronecker form and is
// small.
//
// Residual(body...) is the block y = x + body(x). New flattens it into the
// body's layers, in place, with a skip edge from the block's input to its
// body's output (Network.Skips; blocks may nest), so the parameters are
// the body's in order and every body layer keeps its own structure: a
// Dense layer inside a residual body is a Kronecker layer of the network
// like any other. The Tape adds the block's input at the end of the body
// in the forward passes, and the gradient (or its directional derivative)
// in the block's output to that in its input in the backward passes; the
// sum is linear, so it adds no second-order term. Tape.Output(k) is layer
// k's own output, before a skip edge ending at it adds the block's input.
//
// # Batches
//
// A batch is a *mat.Dense with one sample a row (N×In). The batch loss is
// the mean L = (1/N) Σ ℓ_i; gradients and Hessian-vector products are of L,
// per-sample gradients are the unscaled g_i = ∇_θ ℓ_i.
//
// # Layers
//
// Each Layer knows only its own derivatives, in the manner of BackPACK:
// Forward; the Jacobian-vector product JVP with respect to input and
// parameters; the transposed products VJP; per-sample parameter products;
// and SecondOrderVJP, the layer's residual term in the R-operator backward
// pass (for an activation φ″(x) ⊙ dx ⊙ g, for a Dense layer the bilinear
// W–x terms). A new layer type is one type implementing Layer.
//
// # Losses
//
// Losses act on the network output z (logits): MSE ½‖z − y‖², softmax
// cross-entropy −log softmax(z)_y and sigmoid binary cross-entropy summed
// over the outputs. Each gives its value, ∇_z ℓ, the output Hessian H_z, a
// factor S with S Sᵀ = H_z, and a sampler y ~ p(y|z) for Monte-Carlo
// Fisher estimates.
//
// # Products
//
// Tape.Backward gives the mean-loss gradient and, in the same pass, every
// per-sample gradient (outer products of saved activations and output
// gradients, not N backward passes). Tape.JVP and Tape.VJP are Jacobian
// products of the outputs; Tape.GGNVec is G v = (1/N) Σ J_iᵀ H_z,i J_i v;
// Tape.HessVec is the exact H v by the R-operator (forward-over-reverse).
//
// # Concurrency
//
// A Network, its layers and the losses are not changed after they are
// built, so any number of goroutines may share them. A Tape keeps one
// batch's passes and reuses its buffers: one goroutine at a time, so give
// each goroutine its own (tapes of one network are independent).
//
// Everything here is float64 and deterministic; randomness (Init, Sample)
// comes from a caller's *rand.Rand. Shapes that do not match panic with an
// "nn: " message; bad data is caught by Loss.CheckTargets and by package
// curvature's validation.
package nn
