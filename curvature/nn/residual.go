package nn

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Residual returns the residual block y = x + body(x), body the chain of
// the given layers (which may be residual blocks themselves). Its
// parameters are the body's, in order.
//
// Given to New among a network's layers, the block is flattened into its
// body's layers with a skip edge from the block's input to its body's
// output (see Network.Skips), so every layer of the body stays a layer of
// the network, with its own structure: a Dense layer in a residual body is
// a Kronecker block of K-FAC like any other. The value returned is also a
// Layer in its own right, a composite that recomputes its body's
// intermediate values at every call; New never uses it that way, and
// package approx would see it as one dense block.
func Residual(body ...Layer) Layer {
	return residual{body: append([]Layer(nil), body...)}
}

type residual struct{ body []Layer }

var _ Validator = residual{}

// InSize returns the body's input size.
func (r residual) InSize() int {
	if len(r.body) == 0 {
		return 0
	}
	return r.body[0].InSize()
}

// OutSize returns the body's output size.
func (r residual) OutSize() int {
	if len(r.body) == 0 {
		return 0
	}
	return r.body[len(r.body)-1].OutSize()
}

// NumParams returns the body's parameter count.
func (r residual) NumParams() int {
	p := 0
	for _, l := range r.body {
		p += l.NumParams()
	}
	return p
}

// Validate returns an error for an empty body, a body whose layers do not
// chain, or one that does not give as many outputs as it takes inputs.
func (r residual) Validate() error {
	if len(r.body) == 0 {
		return errors.New("nn: residual block with an empty body")
	}
	for j, l := range r.body {
		if err := validate(l); err != nil {
			return fmt.Errorf("nn: residual body layer %d: %s", j, err)
		}
		if j > 0 && l.InSize() != r.body[j-1].OutSize() {
			return fmt.Errorf("nn: residual body layer %d takes %d inputs but layer %d gives %d", j, l.InSize(), j-1, r.body[j-1].OutSize())
		}
	}
	if r.InSize() != r.OutSize() {
		return fmt.Errorf("nn: residual body maps %d inputs to %d outputs; it must keep the size", r.InSize(), r.OutSize())
	}
	return nil
}

// Init initialises the body's layers in order, each with the activation of
// the Pointwise body layer after it (the last with next), as Network.Init
// does for the flattened block.
func (r residual) Init(theta []float64, next Activation, rng *rand.Rand) {
	off := r.offsets(theta)
	for j, l := range r.body {
		nx := next
		if j+1 < len(r.body) {
			nx = Identity{}
			if p, ok := r.body[j+1].(Pointwise); ok {
				nx = p.Activation()
			}
		}
		l.Init(theta[off[j]:off[j+1]], nx, rng)
	}
}

// offsets returns the first parameter of each body layer, and P last,
// after checking the block and θ.
func (r residual) offsets(theta []float64) []int {
	if err := r.Validate(); err != nil {
		panic(err.Error())
	}
	off := make([]int, len(r.body)+1)
	for j, l := range r.body {
		off[j+1] = off[j] + l.NumParams()
	}
	if len(theta) != off[len(r.body)] {
		panic(fmt.Sprintf("nn: residual block has %d parameters, got %d", off[len(r.body)], len(theta)))
	}
	return off
}

// sub returns body layer j's slice of v, or nil when v is nil or the layer
// has no parameters.
func sub(v []float64, off []int, j int) []float64 {
	if v == nil || off[j] == off[j+1] {
		return nil
	}
	return v[off[j]:off[j+1]:off[j+1]]
}

// forward returns the body's values on x: acts[0] = x and acts[j+1] the
// output of body layer j.
func (r residual) forward(x *mat.Dense, theta []float64, off []int) []*mat.Dense {
	n, _ := x.Dims()
	acts := make([]*mat.Dense, len(r.body)+1)
	acts[0] = x
	for j, l := range r.body {
		acts[j+1] = mat.NewDense(n, l.OutSize(), nil)
		l.Forward(acts[j+1], acts[j], theta[off[j]:off[j+1]])
	}
	return acts
}

// backward returns grads[j], the gradient in body layer j's output, for
// the gradient g in the block's output.
func (r residual) backward(acts []*mat.Dense, theta []float64, off []int, g *mat.Dense) []*mat.Dense {
	n, _ := g.Dims()
	m := len(r.body)
	grads := make([]*mat.Dense, m)
	grads[m-1] = g
	for j := m - 1; j > 0; j-- {
		grads[j-1] = mat.NewDense(n, r.body[j].InSize(), nil)
		r.body[j].VJP(grads[j-1], nil, acts[j], acts[j+1], theta[off[j]:off[j+1]], grads[j])
	}
	return grads
}

// Forward stores x + body(x) in y.
func (r residual) Forward(y, x *mat.Dense, theta []float64) {
	acts := r.forward(x, theta, r.offsets(theta))
	y.Add(x, acts[len(r.body)])
}

// JVP stores dx + the body's JVP in dy.
func (r residual) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	off := r.offsets(theta)
	acts := r.forward(x, theta, off)
	dirs := r.directions(acts, theta, off, dx, dtheta)
	dy.Copy(dirs[len(r.body)])
	if dx != nil {
		dy.Add(dy, dx)
	}
}

// directions returns the directional derivatives of the body's values
// along (dx, dθ), dirs[0] = dx (nil for zero).
func (r residual) directions(acts []*mat.Dense, theta []float64, off []int, dx *mat.Dense, dtheta []float64) []*mat.Dense {
	n, _ := acts[0].Dims()
	dirs := make([]*mat.Dense, len(r.body)+1)
	dirs[0] = dx
	for j, l := range r.body {
		dirs[j+1] = mat.NewDense(n, l.OutSize(), nil)
		l.JVP(dirs[j+1], acts[j], acts[j+1], theta[off[j]:off[j+1]], dirs[j], sub(dtheta, off, j))
	}
	return dirs
}

// VJP stores g + the body's input VJP in dx and the body's parameter VJPs
// in dθ.
func (r residual) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	off := r.offsets(theta)
	acts := r.forward(x, theta, off)
	grads := r.backward(acts, theta, off, g)
	if dtheta != nil {
		for j, l := range r.body {
			if d := sub(dtheta, off, j); d != nil {
				l.VJP(nil, d, acts[j], acts[j+1], theta[off[j]:off[j+1]], grads[j])
			}
		}
	}
	if dx != nil {
		r.body[0].VJP(dx, nil, x, acts[1], theta[off[0]:off[1]], grads[0])
		dx.Add(dx, g)
	}
}

// PerSampleVJP stores the body layers' per-sample VJPs in their columns of
// dst.
func (r residual) PerSampleVJP(dst *mat.Dense, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	off := r.offsets(theta)
	acts := r.forward(x, theta, off)
	grads := r.backward(acts, theta, off, g)
	n, _ := x.Dims()
	for j, l := range r.body {
		if off[j] < off[j+1] {
			l.PerSampleVJP(dst.Slice(0, n, off[j], off[j+1]).(*mat.Dense), acts[j], acts[j+1], theta[off[j]:off[j+1]], grads[j])
		}
	}
}

// SecondOrderVJP adds the derivative of the body's VJPs along (dx, dθ) with
// g fixed: the R-operator's backward pass through the body, starting from
// zero at the block's output (g does not move), with each body layer's own
// second-order term. The skip edge is linear and adds nothing.
func (r residual) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, x, _ *mat.Dense, theta []float64, g, dx *mat.Dense, dtheta []float64) {
	off := r.offsets(theta)
	acts := r.forward(x, theta, off)
	grads := r.backward(acts, theta, off, g)
	dirs := r.directions(acts, theta, off, dx, dtheta)
	n, _ := x.Dims()
	var rg *mat.Dense // derivative of the gradient in body layer j's output; nil is zero
	for j := len(r.body) - 1; j >= 0; j-- {
		l, th := r.body[j], theta[off[j]:off[j+1]]
		var in *mat.Dense
		if j > 0 || rdx != nil {
			in = mat.NewDense(n, l.InSize(), nil)
		}
		rth := sub(rdtheta, off, j)
		if rg != nil {
			var tmp []float64
			if rth != nil {
				tmp = make([]float64, len(rth))
			}
			l.VJP(in, tmp, acts[j], acts[j+1], th, rg)
			if tmp != nil {
				floats.Add(rth, tmp)
			}
		}
		l.SecondOrderVJP(in, rth, acts[j], acts[j+1], th, grads[j], dirs[j], sub(dtheta, off, j))
		rg = in
	}
	if rdx != nil {
		rdx.Add(rdx, rg)
	}
}
