// Package firstorder provides the first-order optimizers that second-order
// methods are measured against, usable on their own: gradient descent (full
// batch, stochastic, mini-batch), momentum and Nesterov momentum, Adagrad,
// RMSprop, Adam, AdamW, AMSGrad, Adamax, NAdam, RAdam, AdaBelief, Adadelta,
// Rprop and averaged SGD, and L-BFGS with a strong Wolfe line search, with
// parameter groups, learning-rate schedules, gradient clipping and resumable
// state: torch.optim's members, with its semantics.
//
// # Parameters and steps
//
// Parameters are one flat []float64 θ and the gradient is a slice of the same
// length. Every optimizer satisfies Optimizer, whose Step(x, grad) updates x
// in place without allocating:
//
//	s := firstorder.DefaultAdamSettings() // torch.optim.Adam's
//	s.LR = 1e-2
//	opt, err := firstorder.NewAdam(len(x), s)
//	...
//	for range steps {
//		gradient(grad, x)
//		if err := opt.Step(x, grad); err != nil { ... }
//	}
//
// Switching optimizer changes only the lines that build it. Step reports a
// NaN or an infinity in the gradient as an error wrapping ErrNonFinite that
// names the first bad entry and its value, and leaves x and the optimizer's
// state unchanged, so a training loop can skip a bad batch. Parameters
// themselves are not checked. A length of x or grad other than the
// optimizer's is a programming error, as a shape mismatch is in gonum's mat:
// Step panics with a message that says so.
//
// # Settings
//
// Each optimizer is built from a settings struct of exported fields, as in
// gonum. A field is 0 by default, and 0 means 0 wherever 0 is a meaningful
// value: a decay rate (β₁, β₂, RMSprop's α, Adadelta's ρ), momentum,
// dampening, weight decay, NAdam's momentum decay, Adagrad's learning-rate
// decay and initial accumulator, ASGD's λ, α and t₀, Rprop's smallest step,
// L-BFGS's tolerances. Only where 0 is not meaningful does it stand for a
// documented default: a learning rate of 0 (which would not move) means the
// optimizer's default rate, an ε of 0 (which would divide 0 by 0 where a
// gradient entry is 0) its default ε, and likewise Rprop's factors η± and
// largest step and L-BFGS's iteration, evaluation and history limits. So the
// zero value of AdamSettings is Adam with β₁ = β₂ = 0, not torch's Adam: for
// torch's defaults start from DefaultAdamSettings (and the Default…Settings
// function of every optimizer whose torch defaults hold a meaningful nonzero
// value; DefaultAdaBeliefSettings gives its authors' defaults, unrectified)
// and set what differs, as one passes keyword arguments to torch.
// SGDSettings and AdagradSettings need no such function: their zero values
// are torch's defaults. Each field's documentation gives its rule. Invalid
// settings (a negative, NaN or infinite learning rate, a decay rate outside
// [0, 1), a negative or non-finite ε or weight decay, Nesterov without
// momentum) make the constructor return an error.
//
// Every settings struct but L-BFGS's has Maximize, torch's flag: the
// optimizer ascends the objective, the gradient being negated before
// anything else (weight decay included), exactly as torch does.
//
// # Parameter groups
//
// SetGroups, which every Optimizer of the package has, gives named sets of
// parameter ranges (Group, Span) a learning rate and a weight decay of their
// own, as torch's param_groups: each is the optimizer's times the group's
// LRScale and WeightDecayScale, so SetLearningRate and schedules move every
// group in proportion, and a group's update is exactly a separate
// optimizer's on its parameters. Parameters in no group are not updated.
// The common case, no weight decay on the biases, is
//
//	biases := firstorder.Biases(lo, hi, fanIn) // of each layer x[lo:hi]
//	err := opt.SetGroups(firstorder.NoDecay(len(x), biases...))
//
// Biases knows curvkit's layout, in which a layer's parameters are the
// row-major [W | b], so each bias ends its row. The update loops walk the
// groups' ranges in order, calling the same loops (and assembly kernels) on
// each, so one group costs what no groups did. The wrappers have no
// SetGroups: set the groups on the optimizer before wrapping it.
//
// # The update rules
//
// Each type's documentation gives its update, which is torch.optim's for the
// optimizers torch has (SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, NAdam,
// RAdam, Adadelta, Rprop, ASGD, LBFGS), with the same defaults and the same
// order of operations (but for one multiplication by 1/√(1−β₂ᵗ) in Adam
// where torch divides), so trajectories agree with torch's to rounding (the
// tests require a relative difference of at most 1e-12 over 60 steps; it is
// about 1e-14; for L-BFGS see LBFGS). AdaBelief follows its authors'
// reference implementation, adabelief-pytorch 0.2. In summary, with g the
// gradient at step t = 1, 2, …:
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
//	Adadelta   v ← ρv + (1−ρ)g²,  Δ ← √(u+ε)/√(v+ε)·g,  u ← ρu + (1−ρ)Δ²,
//	           θ ← θ − lr·Δ
//	Rprop      δ ← δη⁺ or δη⁻ as sign(g) holds or flips,  θ ← θ − sign(g)·δ
//	ASGD       θ ← θ(1 − λη_t) − η_t·g,  θ̄ the mean of θ after step t₀
//	LBFGS      θ ← θ − t·H·g,  H from the last pairs of steps and gradient
//	           changes, t from a strong Wolfe line search or fixed
//
// LBFGS needs function values and evaluates the function several times a
// step, so it is not an Optimizer: its Step takes the function, as torch's
// step takes a closure.
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
// settings: the step count, the learning rate, the parameter groups and each
// moment buffer, as exact float64 bits, so a run saved at step k and resumed
// continues bit-identically to one that never stopped. The format, all
// integers and floats little-endian, is
//
//	"CKFOSTAT"            8 bytes, magic
//	version               uint32, 2
//	kind length, kind     uint8, then ASCII: the optimizer and its variant,
//	                      e.g. "Adam", "Adam-amsgrad", "RMSprop-centered-momentum"
//	n                     uint64, number of parameters
//	steps                 uint64, steps taken
//	learning rate         float64 (IEEE 754 bits)
//	group count           uint32, 0 for one group of all the parameters, then
//	                      per group: name length uint8 and name, LRScale and
//	                      WeightDecayScale float64, span count uint32, and
//	                      Start and End uint64 of each span
//	scalar count, values  uint8, then that many float64 (NAdam: the μ product)
//	buffer count, values  uint8, then that many buffers of n float64 each
//	CRC-32                uint32, IEEE polynomial, of all preceding bytes
//
// Version 1, without the group count, is read as one group. LBFGS writes the
// header through the learning rate, a group count of 0, its iteration and
// evaluation counts (uint64), the last step length t (float64), the number k
// of pairs it keeps (uint32), the last direction and the gradient at its
// start, and the k pairs s, y, oldest first (n float64 each), then the CRC.
// Buffers come in
// this order: SGD with momentum b; Adagrad G; RMSprop s, then the gradient
// average if centered, then the momentum buffer if any; Adam and AdamW m, v,
// then v_max with AMSGrad; Adamax m, u; NAdam and RAdam m, v; AdaBelief m, s,
// then s_max with AMSGrad; Adadelta v, u; Rprop the previous gradient and
// the step sizes; ASGD the average θ̄. Load checks the kind, n, counts,
// groups and checksum, reads exactly the bytes Save wrote, and changes
// nothing on error. A valid checksum does not make the values sensible, so
// Load also refuses a NaN anywhere, an infinite first moment or momentum, a
// negative sum or average of squares, and a scalar outside [0, 1]: the next
// step would write NaN into θ.
//
// Clipped saves the wrapped optimizer's state: it has none of its own.
// Scheduled saves a record in the format above of kind "Scheduled", with its
// base rate as the learning rate, no scalars or buffers and a step count of
// 0 (the wrapped optimizer holds the count), followed by the wrapped
// optimizer's state; a base rate changed by SetLearningRate so survives a
// resume.
//
// # Concurrency
//
// An optimizer keeps its step count and moment buffers and updates them in
// every Step, Save and Load: one goroutine at a time per optimizer (the
// wrappers Clipped and Scheduled included); optimizers that are different
// values are independent. Settings and Schedules are plain values that
// nothing changes, free to share; ClipNorm changes only the slice it is
// given.
//
// # Speed
//
// The element-wise loops of SGD with momentum, Adam and AdamW (the common
// settings: no Nesterov or L2 penalty, no AMSGrad) and the gradient check run
// in AVX2 assembly on amd64 CPUs that have it (plain gradient descent uses
// gonum's floats.AddScaled), computing the same operations
// in the same order as the Go loops, without fused multiply-adds (the Go
// loops prevent fusion too), so results do not depend on the CPU. Build with
// the purego tag to use Go only. The assembly stays because it pays on the
// whole Step, measured side by side (BenchmarkStepAsmVsGo): Adam's loop makes
// the step 2.7–3.8× faster, SGD with momentum's 2.3× at 10k parameters (1.2×
// at 1M, where memory bandwidth bounds both), and the gradient check makes
// plain gradient descent 2× faster; docs/firstorder.md has the figures.
package firstorder
