// Package firstorder provides the first-order optimizers that second-order
// methods are measured against, usable on their own: gradient descent (full
// batch, stochastic, mini-batch), momentum and Nesterov momentum, Adagrad,
// RMSprop, Adam, AdamW, AMSGrad, Adamax, NAdam, RAdam and AdaBelief, with
// learning-rate schedules, gradient clipping and resumable state.
//
// # Parameters and steps
//
// Parameters are one flat []float64 θ and the gradient is a slice of the same
// length. Every optimizer satisfies Optimizer, whose Step(x, grad) updates x
// in place without allocating:
//
//	opt, err := firstorder.NewAdam(len(x), firstorder.AdamSettings{LR: 1e-2})
//	...
//	for range steps {
//		gradient(grad, x)
//		if err := opt.Step(x, grad); err != nil { ... }
//	}
//
// Switching optimizer changes only the line that builds it. Step reports a
// length mismatch (ErrLength) or a NaN or infinity in the gradient
// (ErrNonFinite) as an error and leaves x and the optimizer's state
// unchanged, so a training loop can skip a bad batch. Parameters themselves
// are not checked.
//
// # Settings
//
// Each optimizer is built from a settings struct whose zero value means the
// documented default, which is torch.optim's wherever torch has the
// optimizer. A field whose zero value selects a non-zero default (Beta1,
// AdamW's WeightDecay, Eps, …) is set to exactly zero with the value Zero.
// Invalid settings (a negative, NaN or infinite learning rate, a decay rate
// outside [0, 1), a negative ε or weight decay, Nesterov without momentum)
// make the constructor return an error.
//
// # The update rules
//
// Each type's documentation gives its update, which is torch.optim's for the
// optimizers torch has (SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, NAdam,
// RAdam), with the same defaults and the same order of operations (but for
// one multiplication by 1/√(1−β₂ᵗ) in Adam where torch divides), so
// trajectories agree with torch's to rounding (the tests require a relative
// difference of at most 1e-12 over 60 steps; it is about 1e-14). AdaBelief
// follows its authors' reference implementation, adabelief-pytorch 0.2. In
// summary, with g the gradient at step t = 1, 2, …:
//
//	SGD        θ ← θ − lr·g;  momentum: b ← μb + (1−d)g, θ ← θ − lr·b
//	Nesterov   θ ← θ − lr·(g + μb)
//	Adagrad    G ← G + g²,  θ ← θ − lr·g/(√G + ε)
//	RMSprop    s ← αs + (1−α)g²,  θ ← θ − lr·g/(√s + ε)
//	Adam       m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
//	           θ ← θ − lr·m̂/(√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
//	Adamax     u ← max(β₂u, |g| + ε),  θ ← θ − lr·m̂/u
//	NAdam      Adam with the momentum of step t+1 in the update (Dozat)
//	RAdam      Adam with the variance of √v̂ rectified (Liu et al.)
//	AdaBelief  s ← β₂s + (1−β₂)(g−m)² + ε,  θ ← θ − lr·m̂/(√ŝ + ε)
//
// Where the seed article ("A journey into optimization algorithms for deep
// neural networks", Karagiannakos & Adaloglou, 2021) prints a formula
// differently the type's documentation says so: its Adagrad and RMSprop
// updates multiply by g², not g; its Adam pseudo-code divides by zero at
// t = 0; its Nadam formula is garbled; its AdaBelief omits ε; its NAG is the
// equivalent Sutskever form of Nesterov momentum.
//
// # Schedules and clipping
//
// Scheduled wraps any Optimizer so each step takes its learning rate from a
// Schedule (Constant, StepDecay, Exponential, Cosine, Warmup — closed forms of
// torch's StepLR, ExponentialLR, CosineAnnealingLR and LinearLR chained by
// SequentialLR). Clipped wraps any Optimizer so each step first scales the
// gradient to a maximum Euclidean norm, as torch's clip_grad_norm_, without
// touching the caller's slice; ClipNorm does the same in place. The wrappers
// are Optimizers, so they compose with each other and with every optimizer.
//
// # Saved state
//
// Save writes, and Load reads, everything a step depends on besides the
// settings: the step count, the learning rate and each moment buffer, as
// exact float64 bits, so a run saved at step k and resumed continues
// bit-identically to one that never stopped. The format, all integers and
// floats little-endian, is
//
//	"CKFOSTAT"            8 bytes, magic
//	version               uint32, 1
//	kind length, kind     uint8, then ASCII: the optimizer and its variant,
//	                      e.g. "Adam", "Adam-amsgrad", "RMSprop-centered-momentum"
//	n                     uint64, number of parameters
//	steps                 uint64, steps taken
//	learning rate         float64 (IEEE 754 bits)
//	scalar count, values  uint8, then that many float64 (NAdam: the μ product)
//	buffer count, values  uint8, then that many buffers of n float64 each
//	CRC-32                uint32, IEEE polynomial, of all preceding bytes
//
// Buffers come in this order: SGD with momentum b; Adagrad G; RMSprop s, then
// the gradient average if centered, then the momentum buffer if any; Adam and
// AdamW m, v, then v_max with AMSGrad; Adamax m, u; NAdam and RAdam m, v;
// AdaBelief m, s, then s_max with AMSGrad. Load checks the kind, n, counts and
// checksum, reads exactly the bytes Save wrote, and changes nothing on error.
// The wrappers save the wrapped optimizer's state: schedules depend only on
// the step count.
//
// # Speed
//
// The element-wise loops of SGD with momentum, Adam and AdamW (the common
// settings: no Nesterov or L2 penalty, no AMSGrad) and the gradient check run
// in AVX2 assembly on amd64 CPUs that have it (plain gradient descent uses
// gonum's floats.AddScaled), computing the same operations
// in the same order as the Go loops, without fused multiply-adds (the Go
// loops prevent fusion too), so results do not depend on the CPU. Build with
// the purego tag to use Go only.
package firstorder
