// Package nn is the neural-network side of curvkit: layers with their
// Jacobian products, losses with their output Hessians, and a Tape that runs
// a batch forward and backward and takes the exact products every curvature
// matrix is built from.
//
// # Networks and parameters
//
// A Network is a chain of Layers holding structure only; parameters are a
// flat []float64 θ passed to every call. New chains any layers; NewMLP
// builds Dense (affine) layers, each followed by an Elementwise activation
// unless the activation is the identity. Dense layer l maps a (size In) to s = W a + b (size Out); its
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
// the mean L = (1/N) Σ ℓ_i, or with sample weights (Tape.SetWeights) the
// weighted mean L = Σ w_i ℓ_i / Σ w_i; gradients and Hessian-, GGN- and
// Fisher-vector products are of L, per-sample gradients are the unscaled,
// unweighted g_i = ∇_θ ℓ_i.
//
// # Layers
//
// Each Layer knows only its own derivatives, in the manner of BackPACK:
// Forward; the Jacobian-vector product JVP with respect to input and
// parameters; the transposed products VJP; per-sample parameter products;
// and SecondOrderVJP, the layer's residual term in the R-operator backward
// pass (for an activation φ″(x) ⊙ dx ⊙ g, for Dense and Conv2d the bilinear
// W–x terms, for the pooling layers and Flatten nothing). A new layer type
// is one type implementing Layer.
//
// The layers are Dense (affine), Elementwise (an activation on every
// entry), Conv2d, AvgPool2d, MaxPool2d and Flatten. Layers on images take a
// sample's C×H×W tensor flattened row-major, PyTorch's order, as its row,
// and give their output as a row in the same order: a row is a batch
// entry whatever its shape, and Flatten, the identity, only marks where a
// network stops treating it as an image. Conv2d (cross-correlation with
// stride and zero padding, as PyTorch's nn.Conv2d with dilation 1 and one
// group) holds, per output channel, its kernel in (C, kh, kw) order then
// its bias: the Out × (C·kh·kw + 1) matrix [W | b], Dense's layout. Each
// layer knows its input's height and width, so that sizes are checked when
// the network is built: New calls Validate on every Validator layer (a
// kernel larger than its padded input, a pooling window larger than its
// input) and checks that each layer takes what the previous one gives,
// naming the layer's index and the sizes.
//
// A layer says what structure its parameter block has, without code
// elsewhere naming its type. A Kronecker layer computes s_r = Θ ā_r at R
// weight-sharing positions r from an augmented input ā_r (Dense: R = 1,
// ā = [x; 1]; Conv2d: R = H'·W' output locations, ā_r the patch the
// kernel meets at r followed by a 1); its per-sample gradient is
// Σ_r g_r ā_rᵀ, and K-FAC's factors come from its KronInputs (the ā) and
// KronGrads (the g). Pointwise layers are activations; a Structurer picks
// a dense or diagonal block.
//
// # Descriptions
//
// A Description is a network in PyTorch's terms, as model.json's general
// form holds it: the input's shape ([C, H, W] or [D]) and the layers by
// type (conv2d, linear, avgpool2d, maxpool2d, flatten, layernorm,
// residual, activations) with PyTorch's settings. Description.Network
// propagates the shape through the layers and builds the network, naming
// the layer and field of anything that does not fit; Describe goes back.
//
// # Losses
//
// Losses act on the network output z (logits): MSE ½‖z − y‖², softmax
// cross-entropy −log softmax(z)_y, sigmoid binary cross-entropy summed over
// the outputs, class-weighted cross-entropy w_y·(−log softmax(z)_y)
// (PyTorch's CrossEntropyLoss(weight=w)) and the Gaussian negative
// log-likelihood ½ Σ_d (s_d + (y_d − μ_d)² e^{−s_d}) of outputs z = (μ, s),
// s the log-variances (PyTorch's GaussianNLLLoss with var = e^s, KFAC-JAX's
// mean-and-variance loss). Each gives its value, ∇_z ℓ, the output Hessian
// H_z(z, y) — which takes the target, since for the last two it depends on
// it — a factor S with S₊S₊ᵀ − S₋S₋ᵀ = H_z, its last neg columns S₋
// entering with a minus sign (neg = 0 but for the Gaussian, whose H_z is
// indefinite), and a sampler y ~ p(y|z) for Monte-Carlo Fisher estimates.
//
// The output Fisher F_z = E_{y~p(y|z)}[∇_zℓ ∇_zℓᵀ] is H_z for the first
// three (exponential families in their natural parameter z). The last two
// are FisherLosses, giving F_z's factor and products of their own:
// Σ_k p_k w_k² (p − e_k)(p − e_k)ᵀ for class weights, diag(e^{−s}, ½) for
// the Gaussian, positive definite where its H_z is not.
//
// Each loss is also a Predictor (the most probable target given z); the
// classification losses are Classifiers (the label probabilities softmax(z)
// and σ(z)), MSE and the Gaussian Regressors (the variances 1 and e^s of
// their Gaussian). These interfaces are optional, so a loss of one's own
// need not implement them; package curvature/verify checks a loss against
// its own description, the output Fisher exactly where one of them says what
// p(y|z) is.
//
// # Element-wise functions
//
// The tanh, sigmoid and softplus activations, the sigmoid cross-entropy and
// the softmax take their exponentials and logarithms from internal/vmath:
// whole rows at a time, in AVX-512 or AVX2 assembly on amd64, within 1 ulp
// (exp, softplus) or 2 ulp (tanh, sigmoid) of the correctly rounded value,
// so they may differ from the math package's in the last bits (without
// those kernels, as in the purego build, they are the math package's). The
// backward passes through tanh and the sigmoid take φ'(x) ⊙ v from the
// outputs in one pass. ELU and GELU use the math package entry by entry.
//
// # Products
//
// Tape.Backward gives the mean-loss gradient and, in the same pass, every
// per-sample gradient (outer products of saved activations and output
// gradients, not N backward passes). Tape.JVP and Tape.VJP are Jacobian
// products of the outputs; Tape.GGNVec is G v = (1/N) Σ J_iᵀ H_z,i J_i v
// and Tape.FisherVec the same with F_z,i; Tape.HessVec is the exact H v by
// the R-operator (forward-over-reverse). The products take the targets of
// the tape's last LossValue, Backward or SetTargets.
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
