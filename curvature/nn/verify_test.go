package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
)

// LayerNorm's Jacobian products, per-sample products and second-order term
// against finite differences (verify.Layer), over a whole row (D = Size)
// and over groups (D < Size, as torch.nn.LayerNorm(W) on C×H×W).
func TestVerifyLayerNorm(t *testing.T) {
	for _, l := range []nn.LayerNorm{
		{Size: 5},
		{Size: 8, Eps: 1e-3},
		{Size: 12, Normalized: 4},
		{Size: 12, Normalized: 3},
		{Size: 6, Normalized: 2},
		{Size: 4, Normalized: 1},
	} {
		rep := verify.Layer(l, 5, rand.New(rand.NewPCG(1, 1)), nil)
		assert.NoError(t, rep.Err(), rep.String())
	}
}

func tanh(n int) nn.Layer { return nn.Elementwise{Size: n, Act: nn.Tanh{}} }

// A residual block used as one composite layer, plain and nested, passes
// the same checks.
func TestVerifyResidualComposite(t *testing.T) {
	for _, c := range []struct {
		name string
		l    nn.Layer
	}{
		{"dense", nn.Residual(nn.Dense{In: 6, Out: 6})},
		{"mlp body", nn.Residual(nn.Dense{In: 6, Out: 4}, tanh(4), nn.Dense{In: 4, Out: 6})},
		{"layer norm", nn.Residual(nn.Dense{In: 6, Out: 6}, tanh(6), nn.LayerNorm{Size: 6, Normalized: 3}, nn.Dense{In: 6, Out: 6})},
		{"nested", nn.Residual(nn.Dense{In: 6, Out: 6}, nn.Residual(tanh(6), nn.Dense{In: 6, Out: 6}, tanh(6)), nn.LayerNorm{Size: 6})},
		{"no parameters", nn.Residual(tanh(6))},
	} {
		rep := verify.Layer(c.l, 4, rand.New(rand.NewPCG(2, 2)), nil)
		assert.NoError(t, rep.Err(), "%s: %s", c.name, rep.String())
	}
}

// residualMLP is Dense 6→8, tanh, Residual(Dense 8→8, tanh, LayerNorm 8,
// Dense 8→8), Dense 8→3.
func residualMLP() []nn.Layer {
	return []nn.Layer{
		nn.Dense{In: 6, Out: 8}, tanh(8),
		nn.Residual(nn.Dense{In: 8, Out: 8}, tanh(8), nn.LayerNorm{Size: 8}, nn.Dense{In: 8, Out: 8}),
		nn.Dense{In: 8, Out: 3},
	}
}

// model returns the model of layers with loss at random parameters, and a
// batch of n samples with targets drawn from the model.
func model(t *testing.T, layers []nn.Layer, loss nn.Loss, n int, seed uint64) (*curvature.Model, []float64, curvature.Batch) {
	t.Helper()
	net, err := nn.New(layers...)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, 3))
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	for i := range theta {
		theta[i] += 0.2 * rng.NormFloat64()
	}
	x := mat.NewDense(n, net.InSize(), nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rng.NormFloat64()
	}
	y := mat.NewDense(n, loss.TargetDim(net.OutSize()), nil)
	z := nn.NewTape(net, loss).Forward(theta, x)
	for i := 0; i < n; i++ {
		loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
	}
	return &curvature.Model{Net: net, Loss: loss}, theta, curvature.Batch{X: x, Y: y}
}

// Residual networks pass the model checks: gradient and Hessian-vector
// products against finite differences, GGN = Fisher through sampled
// labels, EF − ḡḡᵀ = C, symmetry and semi-definiteness, and K-FAC exact on
// one sample for every Dense layer, inside residual bodies too.
func TestVerifyResidualModels(t *testing.T) {
	for _, c := range []struct {
		name   string
		layers []nn.Layer
		loss   nn.Loss
		step   float64
	}{
		{"residual mlp with layer norm", residualMLP(), nn.SoftmaxCrossEntropy{}, 0},
		{"nested blocks", []nn.Layer{
			nn.Dense{In: 3, Out: 4},
			nn.Residual(nn.Dense{In: 4, Out: 4}, tanh(4), nn.Residual(nn.Dense{In: 4, Out: 4}, tanh(4)), nn.LayerNorm{Size: 4, Normalized: 2}),
			nn.Residual(nn.Residual(nn.Dense{In: 4, Out: 4})),
			nn.Dense{In: 4, Out: 2},
		}, nn.MSE{}, 3e-6}, // LayerNorm over pairs curves sharply: the differences' error falls as h², 1.7e-6 at the default step 1e-5
	} {
		t.Run(c.name, func(t *testing.T) {
			m, theta, b := model(t, c.layers, c.loss, 5, 1)
			rep, err := verify.Model(m, theta, b, rand.New(rand.NewPCG(4, 4)), &verify.Options{Samples: 4000, Step: c.step})
			require.NoError(t, err)
			assert.NoError(t, rep.Err(), rep.String())
		})
	}
}

// The dense Hessian and GGN of a residual network of Dense and activation
// layers only — which the Kronecker assembly of plain MLPs would accept if
// it ignored the skip edge — against independent oracles: the Hessian as
// the central-difference Jacobian of the gradient (itself checked against
// differences of the loss), the GGN as (1/N) Σ J_iᵀ H_z,i J_i with J_i the
// central-difference Jacobian of the outputs; and both against the
// materialised operator, the diagonal, and the same network written with
// the block as one composite layer.
func TestResidualDenseCurvature(t *testing.T) {
	layers := []nn.Layer{
		nn.Dense{In: 3, Out: 4}, tanh(4),
		nn.Residual(nn.Dense{In: 4, Out: 4}, tanh(4), nn.Dense{In: 4, Out: 4}),
		nn.Dense{In: 4, Out: 2},
	}
	m, theta, b := model(t, layers, nn.SoftmaxCrossEntropy{}, 6, 2)
	P, n := len(theta), b.Len()
	obj, err := m.Objective(b)
	require.NoError(t, err)
	settings := &fd.JacobianSettings{Formula: fd.Central}

	hess := mat.NewDense(P, P, nil)
	fd.Jacobian(hess, func(g, th []float64) { obj.Grad(g, th) }, theta, settings)
	C := m.Net.OutSize()
	jac := mat.NewDense(n*C, P, nil)
	fd.Jacobian(jac, func(z, th []float64) {
		copy(z, nn.NewTape(m.Net, m.Loss).Forward(th, b.X).RawMatrix().Data)
	}, theta, settings)
	z := nn.NewTape(m.Net, m.Loss).Forward(theta, b.X)
	ggn := mat.NewDense(P, P, nil)
	hz := mat.NewSymDense(C, nil)
	for i := 0; i < n; i++ {
		m.Loss.Hessian(hz, z.RawRowView(i), b.Y.RawRowView(i))
		ji := jac.Slice(i*C, (i+1)*C, 0, P)
		var hj, jhj mat.Dense
		hj.Mul(hz, ji)
		jhj.Mul(ji.T(), &hj)
		ggn.Add(ggn, &jhj)
	}
	ggn.Scale(1/float64(n), ggn)

	hidden := append([]nn.Layer(nil), layers...)
	hidden[2] = struct{ nn.Layer }{layers[2]}
	comp, err := nn.New(hidden...)
	require.NoError(t, err)
	require.False(t, comp.HasSkips())
	mc := &curvature.Model{Net: comp, Loss: m.Loss}

	for _, c := range []struct {
		kind curvature.Kind
		want *mat.Dense
	}{{curvature.Hessian, hess}, {curvature.GGN, ggn}} {
		t.Run(c.kind.String(), func(t *testing.T) {
			got, err := m.Dense(c.kind, theta, b, nil)
			require.NoError(t, err)
			gotD := mat.DenseCopyOf(got)
			assert.Less(t, relDiff(gotD, c.want), 1e-7, "against differences")
			op, err := m.Operator(c.kind, theta, b, nil)
			require.NoError(t, err)
			mat2, err := curvature.Materialize(op, 0)
			require.NoError(t, err)
			assert.Less(t, relDiff(gotD, mat.DenseCopyOf(mat2)), 1e-12, "materialised operator")
			viaComp, err := mc.Dense(c.kind, theta, b, nil)
			require.NoError(t, err)
			assert.Less(t, relDiff(gotD, mat.DenseCopyOf(viaComp)), 1e-12, "composite block")
			diag, err := m.Diagonal(c.kind, theta, b, nil)
			require.NoError(t, err)
			for j, d := range diag {
				assert.InDelta(t, got.At(j, j), d, 1e-12*max(1, math.Abs(d)), "diagonal %d", j)
			}
		})
	}
}

// K-FAC of the residual MLP: its Dense layers, inside the residual body
// too, are Kronecker blocks and LayerNorm a dense block. With exact factors
// the dense block is the exact GGN block on any batch, and on one sample
// every Kronecker block is too (each is a one-position layer).
func TestResidualKFAC(t *testing.T) {
	for _, n := range []int{1, 5} {
		m, theta, b := model(t, residualMLP(), nn.SoftmaxCrossEntropy{}, n, 3)
		k, err := approx.ModelKFAC(m, theta, b, nil)
		require.NoError(t, err)
		require.Equal(t, 5, k.NumBlocks())
		for blk := 0; blk < k.NumBlocks(); blk++ {
			want, err := m.Block(curvature.GGN, blk, theta, b, nil)
			require.NoError(t, err)
			wantD := mat.DenseCopyOf(want)
			if blk == 2 {
				require.Nil(t, k.Kron(blk), "layer norm block")
				a, _ := k.Block(blk)
				assert.Less(t, relDiff(mat.DenseCopyOf(approx.Dense(a)), wantD), 1e-12, "N = %d: layer norm block", n)
				continue
			}
			kr := k.Kron(blk)
			require.NotNil(t, kr, "block %d", blk)
			if n > 1 {
				continue // K-FAC is an approximation on a batch
			}
			g, a := kr.Factors()
			var got mat.Dense
			got.Kronecker(g, a)
			assert.Less(t, relDiff(&got, wantD), 1e-12, "block %d", blk)
		}
	}
}

// relDiff returns ‖a − b‖_F / ‖b‖_F.
func relDiff(a, b *mat.Dense) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / math.Max(mat.Norm(b, 2), 1e-300)
}
