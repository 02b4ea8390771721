package nn

import (
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Tape evaluates a network and a loss on one batch and keeps what later
// products need: every layer's input and output from Forward, and every
// layer's output gradient from Backward. Buffers are reused from call to
// call, so a training loop on a fixed batch size does not allocate matrices.
// A Tape is not safe for concurrent use; give each goroutine its own.
//
// A skip edge of a residual block adds the block's input to its body's
// output in every forward pass (values and directional derivatives), and
// the gradient in the block's output to the gradient in its input in every
// backward pass; the sum is linear, so it adds no second-order term.
//
// The batch loss is the weighted mean L = Σ w_i ℓ_i / Σ w_i, the plain mean
// (1/N) Σ ℓ_i unless SetWeights gave weights. LossValue, Backward's
// gradient, GGNVec, FisherVec and HessVec are for L; per-sample quantities
// (PerSampleLoss, Backward's per-sample rows g_i = ∇_θ ℓ_i, OutputGrad, VJP,
// PerSampleVJP, BackpropOutput) are neither weighted nor scaled.
//
// The output curvature of a loss may depend on the targets, so the
// products take the targets of the last LossValue, Backward or SetTargets
// call; Forward forgets them.
type Tape struct {
	Net  *Network
	Loss Loss

	theta []float64
	n     int
	y     *mat.Dense // targets, nil until given after the last Forward
	w     []float64  // sample weights, nil for uniform

	acts    []*mat.Dense // acts[k] = input of layer k, acts[L] = Z
	outs    []*mat.Dense // outs[k] = output of layer k where skip edges end (acts[k+1] adds them), else nil
	grads   []*mat.Dense // grads[k] = ∂ℓ_i/∂acts[k], per sample, unscaled
	wgrads  []*mat.Dense // wgrads[k] = w_i·grads[k] row by row, when weighted
	r, rg   []*mat.Dense // forward and backward directional derivatives, per acts[k]
	losses  []float64
	hasGrad bool
}

// NewTape returns a tape for net and loss.
func NewTape(net *Network, loss Loss) *Tape {
	L := len(net.Layers)
	return &Tape{
		Net:    net,
		Loss:   loss,
		acts:   make([]*mat.Dense, L+1),
		outs:   make([]*mat.Dense, L),
		grads:  make([]*mat.Dense, L+1),
		wgrads: make([]*mat.Dense, L+1),
		r:      make([]*mat.Dense, L+1),
		rg:     make([]*mat.Dense, L+1),
	}
}

// BatchSize returns N of the last Forward.
func (t *Tape) BatchSize() int { return t.n }

// SetWeights weighs sample i by w[i] in every mean the tape takes from then
// on: L = Σ w_i ℓ_i / Σ w_i, and its gradient, Hessian, GGN and Fisher are
// the same weighted means. Nil, the default, weighs every sample 1. The
// weights are kept, not copied, and must be as many as the samples of each
// later pass, finite and ≥ 0 with a positive sum (package curvature's
// Batch validation reports what is wrong with user weights); a wrong
// length panics.
func (t *Tape) SetWeights(w []float64) { t.w = w }

// Weights returns the weights of SetWeights (nil for uniform).
func (t *Tape) Weights() []float64 { return t.w }

// WeightSum returns Σ w_i over the last Forward's batch: N without weights.
func (t *Tape) WeightSum() float64 {
	if t.w == nil {
		return float64(t.n)
	}
	t.checkWeights()
	s := 0.0
	for _, v := range t.w {
		s += v
	}
	return s
}

// checkWeights panics unless the weights, if any, fit the batch.
func (t *Tape) checkWeights() {
	if t.w != nil && len(t.w) != t.n {
		panic(fmt.Sprintf("nn: %d sample weights for a batch of %d", len(t.w), t.n))
	}
}

// weigh multiplies row i of m by w_i (nothing without weights).
func (t *Tape) weigh(m *mat.Dense) {
	if t.w == nil {
		return
	}
	t.checkWeights()
	raw := m.RawMatrix()
	for i, w := range t.w {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		for j := range row {
			row[j] *= w
		}
	}
}

// SetTargets sets the targets y (N×TargetDim) whose output curvature
// GGNVec and HessVec take, as LossValue and Backward do. y is kept, not
// copied.
func (t *Tape) SetTargets(y *mat.Dense) { t.y = y }

// Targets returns the targets of the last LossValue, Backward or
// SetTargets since the last Forward, or nil.
func (t *Tape) Targets() *mat.Dense { return t.y }

// targets returns the targets of the products, and panics with a message
// when none was given since the last Forward.
func (t *Tape) targets(what string) *mat.Dense {
	if t.y == nil {
		panic(fmt.Sprintf("nn: %s needs the targets: call LossValue, Backward or SetTargets after Forward", what))
	}
	return t.y
}

// Params returns the θ of the last Forward.
func (t *Tape) Params() []float64 { return t.theta }

// Input returns layer k's input on the last Forward (N×InSize); Input(0) is
// the batch itself.
func (t *Tape) Input(k int) *mat.Dense { return t.acts[k] }

// Output returns layer k's own output on the last Forward: for the last
// layer of a residual body, before the skip edge adds the block's input.
func (t *Tape) Output(k int) *mat.Dense {
	if len(t.Net.skipsInto(k)) > 0 {
		return t.outs[k]
	}
	return t.acts[k+1]
}

// join adds to vals[k+1], layer k's output, the values vals[from] of the
// skip edges ending at layer k (nil is zero).
func (t *Tape) join(vals []*mat.Dense, k int) {
	for _, from := range t.Net.skipsInto(k) {
		if vals[from] != nil {
			vals[k+1].Add(vals[k+1], vals[from])
		}
	}
}

// fork adds to grads[k], the gradient in layer k's input, the gradients
// grads[to+1] in the outputs of the skip edges leaving it; grads[L] is
// top, the gradient in the network's output.
func (t *Tape) fork(grads []*mat.Dense, top *mat.Dense, k int) {
	L := len(t.Net.Layers)
	for _, to := range t.Net.skipsFrom(k) {
		g := grads[to+1]
		if to+1 == L {
			g = top
		}
		grads[k].Add(grads[k], g)
	}
}

// OutputGrad returns ∂ℓ_i/∂(output of layer k) per sample, unscaled by 1/N,
// from the last Backward; nil before one.
func (t *Tape) OutputGrad(k int) *mat.Dense {
	if !t.hasGrad {
		return nil
	}
	return t.grads[k+1]
}

// Forward runs the network on the batch x (N×InSize, one sample a row) at
// θ and returns the output z (N×OutSize), which the tape owns. x and θ are
// kept, not copied: leave them unchanged while using the tape's results.
func (t *Tape) Forward(theta []float64, x *mat.Dense) *mat.Dense {
	net := t.Net
	if len(theta) != net.NumParams() {
		panic(fmt.Sprintf("nn: θ has length %d, network has %d parameters", len(theta), net.NumParams()))
	}
	n, c := x.Dims()
	if c != net.InSize() {
		panic(fmt.Sprintf("nn: batch has %d columns, network takes %d inputs", c, net.InSize()))
	}
	t.theta, t.n, t.hasGrad, t.y = theta, n, false, nil
	t.acts[0] = x
	for k, l := range net.Layers {
		t.acts[k+1] = ensure(t.acts[k+1], n, l.OutSize())
		if len(net.skipsInto(k)) == 0 {
			l.Forward(t.acts[k+1], t.acts[k], net.LayerParams(theta, k))
			continue
		}
		t.outs[k] = ensure(t.outs[k], n, l.OutSize())
		l.Forward(t.outs[k], t.acts[k], net.LayerParams(theta, k))
		t.acts[k+1].Copy(t.outs[k])
		t.join(t.acts, k)
	}
	return t.acts[len(net.Layers)]
}

// Output of the network on the last Forward.
func (t *Tape) Z() *mat.Dense { return t.acts[len(t.Net.Layers)] }

// LossValue returns the mean loss of the last Forward's output against the
// targets y (N×TargetDim), weighted by the sample weights if any, and keeps
// y as the products' targets.
func (t *Tape) LossValue(y *mat.Dense) float64 {
	if cap(t.losses) < t.n {
		t.losses = make([]float64, t.n)
	}
	t.losses = t.losses[:t.n]
	t.y = y
	sum := t.Loss.Value(t.losses, t.Z(), y)
	if t.w == nil {
		return sum / float64(t.n)
	}
	t.checkWeights()
	sum = 0
	for i, w := range t.w {
		sum += w * t.losses[i]
	}
	return sum / t.WeightSum()
}

// PerSampleLoss returns ℓ_i of the last LossValue call; the tape owns it.
func (t *Tape) PerSampleLoss() []float64 { return t.losses }

// Backward backpropagates the loss against targets y through the last
// Forward, and keeps y as the products' targets. It stores the gradient of
// the (weighted) mean loss in grad (P long) unless grad is nil, and, when
// perSample is not nil (N×P), the per-sample gradients g_i = ∇_θ ℓ_i,
// unweighted, in its rows — in the same pass, as outer products of the
// saved inputs and output gradients.
func (t *Tape) Backward(grad []float64, perSample *mat.Dense, y *mat.Dense) {
	net := t.Net
	L := len(net.Layers)
	P := net.NumParams()
	if grad != nil && len(grad) != P {
		panic(fmt.Sprintf("nn: gradient has length %d, network has %d parameters", len(grad), P))
	}
	if perSample != nil {
		if r, c := perSample.Dims(); r != t.n || c != P {
			panic(fmt.Sprintf("nn: per-sample gradients are %d×%d, want %d×%d", r, c, t.n, P))
		}
	}
	t.checkWeights()
	t.y = y
	t.grads[L] = ensure(t.grads[L], t.n, net.OutSize())
	t.Loss.Grad(t.grads[L], t.Z(), y)
	weighted := t.w != nil
	if weighted {
		t.weighCopy(L)
	}
	for k := L - 1; k >= 0; k-- {
		l := net.Layers[k]
		var dx *mat.Dense
		if k > 0 {
			t.grads[k] = ensure(t.grads[k], t.n, l.InSize())
			dx = t.grads[k]
		}
		lo, hi := net.ParamRange(k)
		var dtheta []float64
		if grad != nil && hi > lo {
			dtheta = grad[lo:hi]
		}
		th, y := net.LayerParams(t.theta, k), t.Output(k)
		if weighted {
			// The input gradients per sample, unweighted, and the
			// parameter gradient from the weighted output gradients.
			l.VJP(dx, nil, t.acts[k], y, th, t.grads[k+1])
			if dtheta != nil {
				l.VJP(nil, dtheta, t.acts[k], y, th, t.wgrads[k+1])
			}
		} else {
			l.VJP(dx, dtheta, t.acts[k], y, th, t.grads[k+1])
		}
		if perSample != nil && hi > lo {
			l.PerSampleVJP(perSample.Slice(0, t.n, lo, hi).(*mat.Dense), t.acts[k], y, th, t.grads[k+1])
		}
		if k > 0 {
			t.fork(t.grads, t.grads[L], k)
			if weighted {
				t.weighCopy(k)
			}
		}
	}
	if grad != nil {
		floats.Scale(1/t.WeightSum(), grad)
	}
	t.hasGrad = true
}

// weighCopy stores w_i·grads[k] in wgrads[k].
func (t *Tape) weighCopy(k int) {
	r, c := t.grads[k].Dims()
	t.wgrads[k] = ensure(t.wgrads[k], r, c)
	t.wgrads[k].Copy(t.grads[k])
	t.weigh(t.wgrads[k])
}

// curvGrads returns the output gradients the second-order terms of the
// mean's Hessian take: grads weighted sample by sample.
func (t *Tape) curvGrads() []*mat.Dense {
	if t.w != nil {
		return t.wgrads
	}
	return t.grads
}

// JVP stores J v in dz (N×OutSize), J_i = ∂z_i/∂θ, at the last Forward.
func (t *Tape) JVP(dz *mat.Dense, v []float64) {
	t.forwardDir(v)
	dz.Copy(t.r[len(t.Net.Layers)])
}

// forwardDir fills t.r[k+1] with the directional derivative of each layer's
// output along v (t.r[0] = 0 is represented by nil).
func (t *Tape) forwardDir(v []float64) {
	net := t.Net
	if len(v) != net.NumParams() {
		panic(fmt.Sprintf("nn: direction has length %d, network has %d parameters", len(v), net.NumParams()))
	}
	for k, l := range net.Layers {
		t.r[k+1] = ensure(t.r[k+1], t.n, l.OutSize())
		var dtheta []float64
		if l.NumParams() > 0 {
			dtheta = net.LayerParams(v, k)
		}
		l.JVP(t.r[k+1], t.acts[k], t.Output(k), net.LayerParams(t.theta, k), t.r[k], dtheta)
		t.join(t.r, k)
	}
}

// VJP stores Σ_i J_iᵀ u_i in dst (P long) for u (N×OutSize), at the last
// Forward. It does not divide by N.
func (t *Tape) VJP(dst []float64, u *mat.Dense) {
	net := t.Net
	L := len(net.Layers)
	if len(dst) != net.NumParams() {
		panic(fmt.Sprintf("nn: destination has length %d, network has %d parameters", len(dst), net.NumParams()))
	}
	g := u
	for k := L - 1; k >= 0; k-- {
		l := net.Layers[k]
		var dx *mat.Dense
		if k > 0 {
			t.rg[k] = ensure(t.rg[k], t.n, l.InSize())
			dx = t.rg[k]
		}
		var dtheta []float64
		if l.NumParams() > 0 {
			dtheta = net.LayerParams(dst, k)
		}
		l.VJP(dx, dtheta, t.acts[k], t.Output(k), net.LayerParams(t.theta, k), g)
		if k > 0 {
			t.fork(t.rg, u, k)
		}
		g = dx
	}
}

// GGNVec stores G v in dst, G = Σ w_i J_iᵀ H_z,i J_i / Σ w_i the
// generalized Gauss-Newton matrix of the mean loss at the last Forward,
// with H_z,i at the targets of the last LossValue, Backward or SetTargets.
func (t *Tape) GGNVec(dst, v []float64) {
	t.outputCurvVec(dst, v, func(hv, z, jv *mat.Dense) { t.Loss.HessVec(hv, z, t.targets("GGNVec"), jv) })
}

// FisherVec stores F v in dst, F = Σ w_i J_iᵀ F_z,i J_i / Σ w_i the Fisher
// of the mean loss at the last Forward: with the loss's output Fisher F_z
// for a FisherLoss, which needs no targets, and otherwise GGNVec, the
// output Fisher being the output Hessian.
func (t *Tape) FisherVec(dst, v []float64) {
	f, ok := t.Loss.(FisherLoss)
	if !ok {
		t.GGNVec(dst, v)
		return
	}
	t.outputCurvVec(dst, v, f.FisherVec)
}

// outputCurvVec stores Σ w_i J_iᵀ M_i J_i v / Σ w_i in dst, with mul
// storing the rows M_i (J v)_i.
func (t *Tape) outputCurvVec(dst, v []float64, mul func(mv, z, jv *mat.Dense)) {
	L := len(t.Net.Layers)
	t.forwardDir(v)
	t.rg[L] = ensure(t.rg[L], t.n, t.Net.OutSize())
	mul(t.rg[L], t.Z(), t.r[L])
	t.weigh(t.rg[L])
	t.VJP(dst, t.rg[L])
	floats.Scale(1/t.WeightSum(), dst)
}

// HessVec stores H v in dst, H the Hessian of the (weighted) mean loss at
// the last Forward and Backward, by the R-operator: a forward pass of directional
// derivatives, then the backward pass differentiated along v
// (forward-over-reverse). It is exact, not a finite difference.
func (t *Tape) HessVec(dst, v []float64) {
	if !t.hasGrad {
		panic("nn: HessVec needs Backward first")
	}
	net := t.Net
	L := len(net.Layers)
	if len(dst) != net.NumParams() {
		panic(fmt.Sprintf("nn: destination has length %d, network has %d parameters", len(dst), net.NumParams()))
	}
	t.forwardDir(v)
	t.rg[L] = ensure(t.rg[L], t.n, net.OutSize())
	t.Loss.HessVec(t.rg[L], t.Z(), t.targets("HessVec"), t.r[L])
	t.weigh(t.rg[L])
	grads := t.curvGrads()
	for k := L - 1; k >= 0; k-- {
		l := net.Layers[k]
		var rdx, dx *mat.Dense
		if k > 0 {
			t.rg[k] = ensure(t.rg[k], t.n, l.InSize())
			rdx, dx = t.rg[k], t.r[k]
		}
		var rdtheta, vk []float64
		if l.NumParams() > 0 {
			rdtheta, vk = net.LayerParams(dst, k), net.LayerParams(v, k)
		}
		th, y := net.LayerParams(t.theta, k), t.Output(k)
		l.VJP(rdx, rdtheta, t.acts[k], y, th, t.rg[k+1])
		l.SecondOrderVJP(rdx, rdtheta, t.acts[k], y, th, grads[k+1], dx, vk)
		if k > 0 {
			t.fork(t.rg, t.rg[L], k)
		}
	}
	floats.Scale(1/t.WeightSum(), dst)
}

// ensure returns m if it is r×c and contiguous, and otherwise a matrix of
// that shape reusing m's storage when it is large enough.
func ensure(m *mat.Dense, r, c int) *mat.Dense {
	if m != nil {
		raw := m.RawMatrix()
		if raw.Rows == r && raw.Cols == c && raw.Stride == c {
			return m
		}
		if cap(raw.Data) >= r*c {
			return mat.NewDense(r, c, raw.Data[:r*c])
		}
	}
	return mat.NewDense(r, c, nil)
}

// BackpropOutput backpropagates u (N×OutSize), a gradient with respect to
// the network output, through the last Forward, and calls visit(k, g) with
// g = the gradient with respect to layer k's output, from the top layer
// down. It computes no parameter gradients: it is the pass that K-FAC's G
// factors and exact curvature diagonals need, one column of the output
// Hessian factor (or one sampled label) at a time. g is owned by the tape
// and overwritten after visit returns.
func (t *Tape) BackpropOutput(u *mat.Dense, visit func(k int, g *mat.Dense)) {
	net := t.Net
	L := len(net.Layers)
	if r, c := u.Dims(); r != t.n || c != net.OutSize() {
		panic(fmt.Sprintf("nn: output gradient is %d×%d, want %d×%d", r, c, t.n, net.OutSize()))
	}
	g := u
	for k := L - 1; k >= 0; k-- {
		visit(k, g)
		if k == 0 {
			break
		}
		l := net.Layers[k]
		t.rg[k] = ensure(t.rg[k], t.n, l.InSize())
		l.VJP(t.rg[k], nil, t.acts[k], t.Output(k), net.LayerParams(t.theta, k), g)
		t.fork(t.rg, u, k)
		g = t.rg[k]
	}
}

// PerSampleVJP stores J_iᵀ u_i, the per-sample products of the transposed
// Jacobian of the network's output with the rows of u (N×OutSize), in the
// rows of dst (N×P), through the last Forward: what Backward's per-sample
// gradients are for u = ∇_z ℓ, for any output vectors (the columns of the
// output-Hessian factor, sampled-label gradients).
func (t *Tape) PerSampleVJP(dst, u *mat.Dense) {
	net := t.Net
	if r, c := dst.Dims(); r != t.n || c != net.NumParams() {
		panic(fmt.Sprintf("nn: per-sample products are %d×%d, want %d×%d", r, c, t.n, net.NumParams()))
	}
	t.BackpropOutput(u, func(k int, g *mat.Dense) {
		if lo, hi := net.ParamRange(k); hi > lo {
			net.Layers[k].PerSampleVJP(dst.Slice(0, t.n, lo, hi).(*mat.Dense), t.acts[k], t.Output(k), net.LayerParams(t.theta, k), g)
		}
	})
}

// Prefix returns a tape holding the first n samples of t's last Forward
// (and Backward) as views of t's storage, without running anything again:
// statistics on part of a batch cost no second forward pass. The prefix is
// valid until t's next Forward; its own products use its own buffers.
func (t *Tape) Prefix(n int) *Tape { return t.PrefixTo(nil, n) }

// PrefixTo is Prefix into dst, a tape of the same network whose work
// buffers it reuses (a new one when dst is nil), so that a loop taking a
// prefix every step does not allocate them again.
func (t *Tape) PrefixTo(dst *Tape, n int) *Tape {
	if n <= 0 || n > t.n {
		panic(fmt.Sprintf("nn: prefix of %d samples of a batch of %d", n, t.n))
	}
	p := dst
	if p == nil {
		p = NewTape(t.Net, t.Loss)
	} else if p.Net != t.Net {
		panic("nn: prefix into a tape of another network")
	}
	p.Loss = t.Loss
	p.theta, p.n, p.hasGrad = t.theta, n, t.hasGrad
	p.y, p.w = rowsView(t.y, n), nil
	if t.w != nil {
		p.w = t.w[:n:n]
	}
	for k, a := range t.acts {
		p.acts[k] = rowsView(a, n)
		if t.hasGrad && k > 0 {
			p.grads[k] = rowsView(t.grads[k], n)
			if t.w != nil {
				p.wgrads[k] = rowsView(t.wgrads[k], n)
			}
		}
	}
	for k, o := range t.outs {
		p.outs[k] = rowsView(o, n)
	}
	return p
}

func rowsView(m *mat.Dense, n int) *mat.Dense {
	if m == nil {
		return nil
	}
	_, c := m.Dims()
	return m.Slice(0, n, 0, c).(*mat.Dense)
}
