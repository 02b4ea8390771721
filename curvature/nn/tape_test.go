package nn

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// problem is a small random network, loss and batch for derivative checks,
// with sample weights w (nil: uniform).
type problem struct {
	net   *Network
	loss  Loss
	theta []float64
	x, y  *mat.Dense
	w     []float64
}

func newProblem(t *testing.T, sizes []int, acts []string, loss Loss, n int, seed uint64) problem {
	t.Helper()
	net, err := NewMLP(sizes, acts)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, 7))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	for i := range theta {
		theta[i] += 0.3 * rng.NormFloat64() // non-zero biases too
	}
	x := randomDense(n, sizes[0], rng)
	y := randomTargets(loss, n, sizes[len(sizes)-1], rng)
	return problem{net, loss, theta, x, y, nil}
}

// weighted returns p with sample weights: 0 for the first sample, then
// 0.5, 1.5, 3, 0.5, 1.5, 3, ….
func (p problem) weighted() problem {
	n, _ := p.x.Dims()
	p.w = make([]float64, n)
	for i := 1; i < n; i++ {
		p.w[i] = []float64{0.5, 1.5, 3}[(i-1)%3]
	}
	return p
}

func (p problem) tape() *Tape {
	tp := NewTape(p.net, p.loss)
	tp.SetWeights(p.w)
	return tp
}

func (p problem) meanLoss(theta []float64) float64 {
	tp := p.tape()
	tp.Forward(theta, p.x)
	return tp.LossValue(p.y)
}

func (p problem) grad(dst, theta []float64) {
	tp := p.tape()
	tp.Forward(theta, p.x)
	tp.Backward(dst, nil, p.y)
}

// relClose asserts ‖got − want‖ ≤ tol·max(1, ‖want‖).
func relClose(t *testing.T, want, got []float64, tol float64, msg string) {
	t.Helper()
	diff := make([]float64, len(want))
	floats.SubTo(diff, got, want)
	scale := max(1, floats.Norm(want, 2))
	assert.LessOrEqual(t, floats.Norm(diff, 2)/scale, tol, msg)
}

// Gradient, per-sample gradients, JVP, VJP, Hessian-vector and GGN-vector
// products on every activation and loss, against finite differences (gonum
// diff/fd) and the adjoint identity ⟨u, Jv⟩ = ⟨Jᵀu, v⟩; and for the losses
// whose curvature depends on the targets, and with sample weights (one of
// them 0), the same against differences of the weighted mean loss.
func TestTapeDerivatives(t *testing.T) {
	for _, act := range activationNames {
		for _, loss := range losses {
			t.Run(act+"/"+loss.Name(), func(t *testing.T) {
				checkTape(t, newProblem(t, []int{3, 5, 4, 3}, []string{act, act, "identity"}, loss, 6, 3))
			})
		}
	}
	for _, act := range []string{"tanh", "softplus"} {
		for _, loss := range append(append([]Loss(nil), losses...), labelled(4)...) {
			p := newProblem(t, []int{3, 5, 4}, []string{act, "identity"}, loss, 7, 5)
			t.Run(act+"/"+loss.Name(), func(t *testing.T) { checkTape(t, p) })
			t.Run(act+"/weighted/"+loss.Name(), func(t *testing.T) { checkTape(t, p.weighted()) })
		}
	}
}

// checkTape checks the tape's products on p against finite differences
// and the adjoint identity.
func checkTape(t *testing.T, p problem) {
	t.Helper()
	n, in := p.x.Dims()
	P := p.net.NumParams()
	rng := rand.New(rand.NewPCG(4, 4))
	tp := p.tape()
	tp.Forward(p.theta, p.x)
	w := make([]float64, n) // the weights, 1 without
	floats.AddConst(1, w)
	if p.w != nil {
		copy(w, p.w)
	}
	wsum := floats.Sum(w)
	assert.Equal(t, wsum, tp.WeightSum())

	grad := make([]float64, P)
	per := mat.NewDense(n, P, nil)
	tp.Backward(grad, per, p.y)
	want := fd.Gradient(nil, p.meanLoss, p.theta, &fd.Settings{Formula: fd.Central})
	relClose(t, want, grad, 1e-7, "gradient")

	// The weighted mean of per-sample gradients is the gradient, and each
	// row is the gradient of its own sample's loss, unweighted.
	mean := make([]float64, P)
	for i := 0; i < n; i++ {
		floats.AddScaled(mean, w[i]/wsum, per.RawRowView(i))
	}
	relClose(t, grad, mean, 1e-13, "mean of per-sample gradients")
	one := problem{p.net, p.loss, p.theta, mat.DenseCopyOf(p.x.Slice(2, 3, 0, in)), mat.DenseCopyOf(p.y.Slice(2, 3, 0, p.y.RawMatrix().Cols)), nil}
	g2 := make([]float64, P)
	one.grad(g2, p.theta)
	relClose(t, g2, per.RawRowView(2), 1e-13, "per-sample gradient of sample 2")

	// JVP against the finite-difference Jacobian of the outputs.
	v := make([]float64, P)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	C := p.net.OutSize()
	jv := mat.NewDense(n, C, nil)
	tp.JVP(jv, v)
	zAt := func(h float64) []float64 {
		th := make([]float64, P)
		floats.AddScaledTo(th, p.theta, h, v)
		t2 := NewTape(p.net, p.loss)
		return append([]float64(nil), t2.Forward(th, p.x).RawMatrix().Data...)
	}
	const h = 1e-5
	zp, zm := zAt(h), zAt(-h)
	fdJv := make([]float64, n*C)
	for i := range fdJv {
		fdJv[i] = (zp[i] - zm[i]) / (2 * h)
	}
	relClose(t, fdJv, jv.RawMatrix().Data, 1e-7, "JVP")

	u := randomDense(n, C, rng)
	jtu := make([]float64, P)
	tp.VJP(jtu, u)
	assert.InDelta(t, floats.Dot(u.RawMatrix().Data, jv.RawMatrix().Data), floats.Dot(jtu, v), 1e-11*max(1, math.Abs(floats.Dot(jtu, v))), "⟨u, Jv⟩ = ⟨Jᵀu, v⟩")

	// HVP against central differences of the gradient along v.
	hv := make([]float64, P)
	tp.HessVec(hv, v)
	gp, gm := make([]float64, P), make([]float64, P)
	thp, thm := make([]float64, P), make([]float64, P)
	floats.AddScaledTo(thp, p.theta, h, v)
	floats.AddScaledTo(thm, p.theta, -h, v)
	p.grad(gp, thp)
	p.grad(gm, thm)
	fdHv := make([]float64, P)
	floats.SubTo(fdHv, gp, gm)
	floats.Scale(1/(2*h), fdHv)
	relClose(t, fdHv, hv, 1e-6, "HVP")

	// GGN·v = Σ w_i J_iᵀ H_z,i J_i v / Σ w_i from the pieces checked
	// above, and F·v the same with F_z,i (H_z,i unless the loss has an
	// output Fisher of its own).
	for _, c := range []struct {
		name string
		mul  func(dst, v []float64)
		outV func(dst, z, v *mat.Dense)
	}{
		{"GGN", tp.GGNVec, func(dst, z, v *mat.Dense) { p.loss.HessVec(dst, z, p.y, v) }},
		{"Fisher", tp.FisherVec, fisherVec(p.loss, p.y)},
	} {
		hz := mat.NewDense(n, C, nil)
		c.outV(hz, tp.Z(), jv)
		for i := 0; i < n; i++ {
			floats.Scale(w[i]/wsum, hz.RawRowView(i))
		}
		wantG := make([]float64, P)
		tp.VJP(wantG, hz)
		gv := make([]float64, P)
		c.mul(gv, v)
		relClose(t, wantG, gv, 1e-13, c.name+"-vector product")
	}
}

// fisherVec returns the output Fisher's product of loss: FisherVec for a
// FisherLoss, the output Hessian's at the targets y otherwise.
func fisherVec(loss Loss, y *mat.Dense) func(dst, z, v *mat.Dense) {
	if f, ok := loss.(FisherLoss); ok {
		return f.FisherVec
	}
	return func(dst, z, v *mat.Dense) { loss.HessVec(dst, z, y, v) }
}

// H = G for a network linear in θ with the MSE loss (one affine layer), at
// any point; for a deep linear network the Hessian's residual term is the
// Dense layers' bilinear one, which vanishes where the residual z − y does.
func TestHessVecEqualsGGNVecLinearMSE(t *testing.T) {
	for _, c := range []struct {
		name      string
		sizes     []int
		acts      []string
		zeroResid bool
	}{
		{"affine", []int{4, 2}, []string{"identity"}, false},
		{"deep linear at zero residual", []int{4, 3, 2}, []string{"identity", "identity"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProblem(t, c.sizes, c.acts, MSE{}, 5, 9)
			tp := NewTape(p.net, p.loss)
			z := tp.Forward(p.theta, p.x)
			y := p.y
			if c.zeroResid {
				y = mat.DenseCopyOf(z)
			}
			tp.Backward(nil, nil, y)
			rng := rand.New(rand.NewPCG(5, 5))
			v := make([]float64, p.net.NumParams())
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			hv, gv := make([]float64, len(v)), make([]float64, len(v))
			tp.HessVec(hv, v)
			tp.GGNVec(gv, v)
			relClose(t, gv, hv, 1e-13, "H v = G v")
		})
	}
}

func TestNewMLPErrors(t *testing.T) {
	cases := []struct {
		name  string
		sizes []int
		acts  []string
	}{
		{"unknown activation", []int{2, 3}, []string{"swish"}},
		{"zero size", []int{2, 0, 1}, []string{"tanh", "identity"}},
		{"negative size", []int{-2, 1}, []string{"tanh"}},
		{"too few activations", []int{2, 3, 1}, []string{"tanh"}},
		{"one size", []int{2}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewMLP(c.sizes, c.acts)
			assert.Error(t, err)
		})
	}
}

// The layout is [W | b] row-major per layer: a hand-built two-input,
// one-output layer with W = (2, 3) and b = 5 maps (1, 1) to 10.
func TestDenseLayout(t *testing.T) {
	net, err := NewMLP([]int{2, 1}, []string{"identity"})
	require.NoError(t, err)
	require.Equal(t, 3, net.NumParams())
	tp := NewTape(net, MSE{})
	z := tp.Forward([]float64{2, 3, 5}, mat.NewDense(1, 2, []float64{1, 1}))
	assert.Equal(t, 10.0, z.At(0, 0))
}

// The same seed gives the same initial parameters.
func TestInitReproducible(t *testing.T) {
	net, err := NewMLP([]int{5, 4, 3}, []string{"relu", "identity"})
	require.NoError(t, err)
	a, b := make([]float64, net.NumParams()), make([]float64, net.NumParams())
	net.Init(a, rand.New(rand.NewPCG(1, 2)))
	net.Init(b, rand.New(rand.NewPCG(1, 2)))
	assert.Equal(t, a, b)
	assert.NotEqual(t, 0.0, floats.Norm(a, 2))
}

// BackpropOutput hands each layer the output gradient Backward stores: with
// u = ∇_z ℓ the two passes agree exactly.
func TestBackpropOutput(t *testing.T) {
	checkBackpropOutput(t, newProblem(t, []int{3, 4, 2}, []string{"tanh", "identity"}, SoftmaxCrossEntropy{}, 5, 21))
}

func checkBackpropOutput(t *testing.T, p problem) {
	t.Helper()
	tp := NewTape(p.net, p.loss)
	z := tp.Forward(p.theta, p.x)
	n, C := z.Dims()
	u := mat.NewDense(n, C, nil)
	p.loss.Grad(u, z, p.y)
	got := map[int][]float64{}
	tp.BackpropOutput(u, func(k int, g *mat.Dense) {
		got[k] = append([]float64(nil), g.RawMatrix().Data...)
	})
	tp.Backward(nil, nil, p.y)
	require.Len(t, got, len(p.net.Layers))
	for k := range p.net.Layers {
		assert.Equal(t, tp.OutputGrad(k).RawMatrix().Data, got[k], "layer %d", k)
	}
}

// A prefix of a tape gives the same products as a tape run on the first
// rows alone.
func TestPrefix(t *testing.T) {
	checkPrefix(t, newProblem(t, []int{3, 4, 2}, []string{"tanh", "identity"}, SigmoidBCE{}, 7, 31))
}

// checkPrefix compares a prefix of three samples with a tape run on them
// alone: layer outputs, the Hessian-vector product and the JVP.
func checkPrefix(t *testing.T, p problem) {
	t.Helper()
	full := NewTape(p.net, p.loss)
	full.Forward(p.theta, p.x)
	full.Backward(nil, nil, p.y)
	pre := full.Prefix(3)

	n, in := p.x.Dims()
	_, ty := p.y.Dims()
	alone := NewTape(p.net, p.loss)
	alone.Forward(p.theta, mat.DenseCopyOf(p.x.Slice(0, 3, 0, in)))
	alone.Backward(nil, nil, mat.DenseCopyOf(p.y.Slice(0, 3, 0, ty)))
	for k := range p.net.Layers {
		assert.Equal(t, alone.Output(k).RawMatrix().Data, mat.DenseCopyOf(pre.Output(k)).RawMatrix().Data, "output of layer %d", k)
	}

	v := make([]float64, p.net.NumParams())
	for i := range v {
		v[i] = float64(i%5) - 2
	}
	a, b := make([]float64, len(v)), make([]float64, len(v))
	pre.HessVec(a, v)
	alone.HessVec(b, v)
	assert.Equal(t, b, a, "Hessian-vector product")
	C := p.net.OutSize()
	ja, jb := mat.NewDense(3, C, nil), mat.NewDense(3, C, nil)
	pre.JVP(ja, v)
	alone.JVP(jb, v)
	assert.Equal(t, jb.RawMatrix().Data, mat.DenseCopyOf(ja).RawMatrix().Data, "JVP")
	assert.Equal(t, 3, pre.BatchSize())
	assert.Panics(t, func() { full.Prefix(n + 1) })
}

// Tapes of one network in several goroutines at once (run with -race)
// give, bit for bit, the gradients and Hessian products each gives alone:
// the network and the loss are shared, read only.
func TestTapesShareNetwork(t *testing.T) {
	p := newProblem(t, []int{3, 5, 4}, []string{"tanh", "identity"}, SoftmaxCrossEntropy{}, 16, 41)
	P := len(p.theta)
	v := make([]float64, P)
	for i := range v {
		v[i] = math.Cos(float64(i))
	}
	run := func() (g, hv []float64) {
		tape := NewTape(p.net, p.loss)
		g, hv = make([]float64, P), make([]float64, P)
		tape.Forward(p.theta, p.x)
		tape.Backward(g, nil, p.y)
		tape.HessVec(hv, v)
		return g, hv
	}
	wantG, wantHV := run()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				g, hv := run()
				assert.Equal(t, wantG, g)
				assert.Equal(t, wantHV, hv)
			}
		})
	}
	wg.Wait()
}

// PerSampleVJP of the loss's output gradient is Backward's per-sample
// gradients, bit for bit, on a network with a residual block.
func TestTapePerSampleVJP(t *testing.T) {
	net, err := New(Dense{In: 3, Out: 4}, Elementwise{Size: 4, Act: Tanh{}},
		Residual(Dense{In: 4, Out: 4}, Elementwise{Size: 4, Act: Tanh{}}), Dense{In: 4, Out: 2})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	x := mat.NewDense(5, 3, nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rng.NormFloat64()
	}
	y := mat.NewDense(5, 2, nil)
	for i := range y.RawMatrix().Data {
		y.RawMatrix().Data[i] = rng.NormFloat64()
	}
	tp := NewTape(net, MSE{})
	z := tp.Forward(theta, x)
	want := mat.NewDense(5, net.NumParams(), nil)
	tp.Backward(nil, want, y)
	u := mat.NewDense(5, 2, nil)
	MSE{}.Grad(u, z, y)
	got := mat.NewDense(5, net.NumParams(), nil)
	tp.PerSampleVJP(got, u)
	if !mat.Equal(got, want) {
		t.Errorf("per-sample VJP of ∇_z ℓ differs from Backward's per-sample gradients")
	}
}
