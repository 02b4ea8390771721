package secondorder_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
	"github.com/curvkit/curvkit/secondorder"
)

// The two layers of this file exist nowhere else: every package takes them
// through the layer interfaces alone.

// linearNoBias is s = W x with W the row-major Out×In parameters: a
// Kronecker layer (p = Out, q = In, one position) without a bias.
type linearNoBias struct{ in, out int }

var _ nn.Affine = linearNoBias{}

func (l linearNoBias) InSize() int    { return l.in }
func (l linearNoBias) OutSize() int   { return l.out }
func (l linearNoBias) NumParams() int { return l.in * l.out }

func (l linearNoBias) w(theta []float64) blas64.General {
	return blas64.General{Rows: l.out, Cols: l.in, Stride: l.in, Data: theta}
}

func (l linearNoBias) Init(theta []float64, _ nn.Activation, rng *rand.Rand) {
	for i := range theta {
		theta[i] = rng.NormFloat64() / math.Sqrt(float64(l.in))
	}
}

func (l linearNoBias) Forward(y, x *mat.Dense, theta []float64) {
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, x.RawMatrix(), l.w(theta), 0, y.RawMatrix())
}

func (l linearNoBias) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	dy.Zero()
	if dx != nil {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, dx.RawMatrix(), l.w(theta), 1, dy.RawMatrix())
	}
	if dtheta != nil {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, x.RawMatrix(), l.w(dtheta), 1, dy.RawMatrix())
	}
}

func (l linearNoBias) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	if dx != nil {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, g.RawMatrix(), l.w(theta), 0, dx.RawMatrix())
	}
	if dtheta != nil {
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, g.RawMatrix(), x.RawMatrix(), 0, l.w(dtheta))
	}
}

func (l linearNoBias) PerSampleVJP(dst, x, _ *mat.Dense, _ []float64, g *mat.Dense) {
	n, _ := x.Dims()
	for i := 0; i < n; i++ {
		row := dst.RawRowView(i)
		for o, gv := range g.RawRowView(i) {
			floats.ScaleTo(row[o*l.in:(o+1)*l.in], gv, x.RawRowView(i))
		}
	}
}

func (l linearNoBias) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, _, _ *mat.Dense, _ []float64, g, dx *mat.Dense, dtheta []float64) {
	if rdx != nil && dtheta != nil {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, g.RawMatrix(), l.w(dtheta), 1, rdx.RawMatrix())
	}
	if rdtheta != nil && dx != nil {
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, g.RawMatrix(), dx.RawMatrix(), 1, l.w(rdtheta))
	}
}

func (l linearNoBias) KronShape() (p, q, positions int) { return l.out, l.in, 1 }

func (l linearNoBias) KronInputs(dst, x *mat.Dense) *mat.Dense {
	if dst == nil {
		dst = &mat.Dense{}
	}
	dst.CloneFrom(x)
	return dst
}

func (l linearNoBias) KronGrads(_, g *mat.Dense) *mat.Dense { return g }

func (l linearNoBias) Weights(theta []float64) (blas64.General, blas64.Vector) {
	return l.w(theta), blas64.Vector{}
}

// scale is y = γ ⊙ x with one parameter per feature: no Kronecker
// structure; it asks for a diagonal or a dense block.
type scale struct {
	size      int
	structure nn.Structure
}

func (s scale) InSize() int                  { return s.size }
func (s scale) OutSize() int                 { return s.size }
func (s scale) NumParams() int               { return s.size }
func (s scale) BlockStructure() nn.Structure { return s.structure }
func (s scale) Init(theta []float64, _ nn.Activation, rng *rand.Rand) {
	for i := range theta {
		theta[i] = 1 + 0.1*rng.NormFloat64()
	}
}

// rows applies f to every row of the arguments.
func rows(f func(i int, out []float64), dst *mat.Dense) {
	n, _ := dst.Dims()
	for i := 0; i < n; i++ {
		f(i, dst.RawRowView(i))
	}
}

func (s scale) Forward(y, x *mat.Dense, theta []float64) {
	rows(func(i int, out []float64) { floats.MulTo(out, x.RawRowView(i), theta) }, y)
}

func (s scale) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	rows(func(i int, out []float64) {
		clear(out)
		if dx != nil {
			floats.AddScaledTo(out, out, 1, mulOf(dx.RawRowView(i), theta))
		}
		if dtheta != nil {
			floats.AddScaledTo(out, out, 1, mulOf(x.RawRowView(i), dtheta))
		}
	}, dy)
}

func mulOf(a, b []float64) []float64 { return floats.MulTo(make([]float64, len(a)), a, b) }

func (s scale) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	if dx != nil {
		rows(func(i int, out []float64) { floats.MulTo(out, g.RawRowView(i), theta) }, dx)
	}
	if dtheta != nil {
		clear(dtheta)
		n, _ := x.Dims()
		for i := 0; i < n; i++ {
			floats.Add(dtheta, mulOf(g.RawRowView(i), x.RawRowView(i)))
		}
	}
}

func (s scale) PerSampleVJP(dst, x, _ *mat.Dense, _ []float64, g *mat.Dense) {
	rows(func(i int, out []float64) { floats.MulTo(out, g.RawRowView(i), x.RawRowView(i)) }, dst)
}

func (s scale) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, _, _ *mat.Dense, _ []float64, g, dx *mat.Dense, dtheta []float64) {
	if rdx != nil && dtheta != nil {
		rows(func(i int, out []float64) { floats.Add(out, mulOf(g.RawRowView(i), dtheta)) }, rdx)
	}
	if rdtheta != nil && dx != nil {
		n, _ := dx.Dims()
		for i := 0; i < n; i++ {
			floats.Add(rdtheta, mulOf(g.RawRowView(i), dx.RawRowView(i)))
		}
	}
}

// customModel is scale(8) → linearNoBias(8→5) → tanh → Dense(5→3) with the
// softmax cross-entropy, on the first 8 pixels of n digits.
func customModel(t testing.TB, structure nn.Structure, n int) (*curvature.Model, []float64, curvature.Batch) {
	t.Helper()
	net, err := nn.New(scale{size: 8, structure: structure}, linearNoBias{in: 8, out: 5},
		nn.Elementwise{Size: 5, Act: nn.Tanh{}}, nn.Dense{In: 5, Out: 3})
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 2)))
	set, err := data.Digits()
	require.NoError(t, err)
	x := mat.DenseCopyOf(set.X.Slice(0, n, 0, 8))
	y := mat.NewDense(n, 1, nil)
	for i := 0; i < n; i++ {
		y.Set(i, 0, math.Mod(set.Y.At(i, 0), 3))
	}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, curvature.Batch{X: x, Y: y}
}

// relDiffSym returns ‖a − b‖_F/‖b‖_F.
func relDiffSym(a, b mat.Matrix) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / mat.Norm(b, 2)
}

func TestCustomLayersVerify(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, l := range []nn.Layer{linearNoBias{in: 4, out: 3}, scale{size: 4}} {
		rep := verify.Layer(l, 5, rng, nil)
		assert.NoError(t, rep.Err(), "%v", rep)
	}
	m, theta, b := customModel(t, nn.DenseBlock, 12)
	rep, err := verify.Model(m, theta, b, rng, &verify.Options{Samples: 4000})
	require.NoError(t, err)
	assert.NoError(t, rep.Err(), "%v", rep)
}

// The dense Hessian and GGN assembled from per-sample Kronecker structure
// (a bias-free affine layer takes that path) against the matrix-free
// products materialised.
func TestCustomLayerDenseAssembly(t *testing.T) {
	net, err := nn.New(linearNoBias{in: 8, out: 5}, nn.Elementwise{Size: 5, Act: nn.Tanh{}}, nn.Dense{In: 5, Out: 3})
	require.NoError(t, err)
	_, theta, b := customModel(t, nn.DenseBlock, 20)
	m := &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}
	theta = theta[8:]
	for _, kind := range []curvature.Kind{curvature.Hessian, curvature.GGN} {
		d, err := m.Dense(kind, theta, b, nil)
		require.NoError(t, err)
		op, err := m.Operator(kind, theta, b, nil)
		require.NoError(t, err)
		want, err := curvature.Materialize(op, 0)
		require.NoError(t, err)
		assert.Less(t, relDiffSym(d, want), 1e-12, "%v", kind)
		diag, err := m.Diagonal(kind, theta, b, nil)
		require.NoError(t, err)
		for i, v := range diag {
			assert.InDelta(t, want.At(i, i), v, 1e-12*math.Abs(want.At(i, i))+1e-15, "%v diagonal %d", kind, i)
		}
	}
}

// K-FAC, EKFAC, the block and diagonal approximations and the
// Kronecker-optimal one on a network of the two layers: each layer block is
// what its structure says, against the dense matrices.
func TestCustomLayersApproximations(t *testing.T) {
	for _, structure := range []nn.Structure{nn.DenseBlock, nn.DiagonalBlock} {
		t.Run(structure.String(), func(t *testing.T) {
			m, theta, b := customModel(t, structure, 30)
			ggn, err := m.Dense(curvature.GGN, theta, b, nil)
			require.NoError(t, err)
			k, err := approx.ModelKFAC(m, theta, b, nil)
			require.NoError(t, err)
			require.Equal(t, 3, k.NumBlocks())
			require.Nil(t, k.Kron(0), "scale has no Kronecker structure")
			require.NotNil(t, k.Kron(1))
			require.NotNil(t, k.Kron(2))
			// The scale layer's K-FAC block is the GGN's own (exact factors
			// backpropagate the output-Hessian factor), or its diagonal.
			blk, idx := k.Block(0)
			want := ggn.SliceSym(idx[0], idx[len(idx)-1]+1)
			got := blk.(interface{ Dense() *mat.SymDense }).Dense()
			if structure == nn.DiagonalBlock {
				for i := 0; i < 8; i++ {
					assert.InDelta(t, want.At(i, i), got.At(i, i), 1e-13*want.At(i, i))
				}
				assert.Zero(t, got.At(0, 1))
			} else {
				assert.Less(t, relDiffSym(got, want), 1e-13)
			}

			exact := curvature.NewDense(ggn)
			kErr, err := approx.RelFrobeniusError(exact, k)
			require.NoError(t, err)
			ek, err := approx.ModelEKFAC(m, theta, b, nil)
			require.NoError(t, err)
			eErr, err := approx.RelFrobeniusError(exact, ek)
			require.NoError(t, err)
			assert.LessOrEqual(t, eErr, kErr*(1+1e-12), "EKFAC no farther than K-FAC")
			nk, err := approx.ModelNearestKronecker(m, curvature.GGN, theta, b, nil, nil)
			require.NoError(t, err)
			nErr, err := approx.RelFrobeniusError(exact, nk)
			require.NoError(t, err)
			assert.LessOrEqual(t, nErr, kErr*(1+1e-9), "Kronecker-optimal no farther than K-FAC")

			for _, p := range []approx.Partition{approx.PerLayer, approx.PerNeuron} {
				bd, err := approx.ModelBlockDiagonal(m, curvature.GGN, p, theta, b, nil)
				require.NoError(t, err)
				index, err := p.Index(m.Net)
				require.NoError(t, err)
				ref, err := approx.BlockDiagonalOf(ggn, index, 0)
				require.NoError(t, err)
				assert.Less(t, relDiffSym(bd.Dense(), ref.Dense()), 1e-13, "%v", p)
			}
			// Per neuron: the scale layer is one block, linearNoBias 5 of 8,
			// Dense 3 of 6.
			index, err := approx.PerNeuron.Index(m.Net)
			require.NoError(t, err)
			assert.Len(t, index, 1+5+3)
			d, err := approx.ModelDiagonal(m, curvature.GGN, theta, b, nil)
			require.NoError(t, err)
			for i, v := range d.Values() {
				assert.InDelta(t, ggn.At(i, i), v, 1e-13*ggn.At(i, i)+1e-16, "diagonal %d", i)
			}
		})
	}
}

// The K-FAC optimizer, natural gradient with K-FAC and Hessian-free train
// the network.
func TestCustomLayersOptimizers(t *testing.T) {
	for _, c := range []struct {
		name string
		step func(m *curvature.Model) (func(theta []float64, b curvature.Batch) error, error)
	}{
		{"kfac", func(m *curvature.Model) (func([]float64, curvature.Batch) error, error) {
			opt, err := secondorder.NewKFAC(m, nil)
			return func(th []float64, b curvature.Batch) error { _, err := opt.Step(th, b); return err }, err
		}},
		{"natural-gradient-kfac", func(m *curvature.Model) (func([]float64, curvature.Batch) error, error) {
			opt, err := secondorder.NewNaturalGradient(m, &secondorder.NaturalGradientSettings{LearningRate: 0.5})
			return func(th []float64, b curvature.Batch) error { _, err := opt.Step(th, b); return err }, err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, theta, b := customModel(t, nn.DenseBlock, 60)
			obj, err := m.Objective(b)
			require.NoError(t, err)
			start := obj.Func(theta)
			step, err := c.step(m)
			require.NoError(t, err)
			for i := 0; i < 30; i++ {
				require.NoError(t, step(theta, b), "step %d", i)
			}
			end := obj.Func(theta)
			t.Logf("loss %.4f → %.4f", start, end)
			assert.Less(t, end, 0.5*start, fmt.Sprintf("%s halves the loss", c.name))
		})
	}
}
