package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
)

// convNets are small convolutional networks (P ≤ 300) for the model
// checks: conv → tanh → average pooling → flatten → dense as the
// convolutional networks of the literature are built, one with max pooling
// after a strided convolution, and one with two convolutions in a row (the
// second one's input gradient flows back into the first).
func convNets(t *testing.T) map[string]*nn.Network {
	t.Helper()
	must := func(net *nn.Network, err error) *nn.Network {
		t.Helper()
		require.NoError(t, err)
		return net
	}
	tanh := func(n int) nn.Layer { return nn.Elementwise{Size: n, Act: nn.Tanh{}} }
	return map[string]*nn.Network{
		"conv-tanh-avgpool-flatten-dense": must(nn.New(
			nn.Conv2d{In: 2, Out: 3, H: 5, W: 5, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}, // 3×5×5, 57 parameters
			tanh(75),
			nn.AvgPool2d{C: 3, H: 5, W: 5, Kernel: [2]int{2, 2}}, // 3×2×2
			nn.Flatten{C: 3, H: 2, W: 2},
			nn.Dense{In: 12, Out: 3}, // 39 parameters
		)),
		"strided conv-tanh-maxpool-flatten-dense": must(nn.New(
			nn.Conv2d{In: 1, Out: 2, H: 6, W: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, // 2×3×3
			tanh(18),
			nn.MaxPool2d{C: 2, H: 3, W: 3, Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}}, // 2×2×2
			nn.Flatten{C: 2, H: 2, W: 2},
			nn.Dense{In: 8, Out: 4},
		)),
		"conv-tanh-conv-flatten-dense": must(nn.New(
			nn.Conv2d{In: 1, Out: 2, H: 5, W: 4, Kernel: [2]int{3, 3}, Padding: [2]int{1, 1}}, // 2×5×4
			tanh(40),
			nn.Conv2d{In: 2, Out: 2, H: 5, W: 4, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}, // 2×2×2
			nn.Flatten{C: 2, H: 2, W: 2},
			nn.Dense{In: 8, Out: 3},
		)),
	}
}

// convProblem returns θ from Init with perturbed biases, a batch of n
// random inputs and targets drawn from the model.
func convProblem(net *nn.Network, loss nn.Loss, n int, rng *rand.Rand) ([]float64, curvature.Batch) {
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	for i := range theta {
		theta[i] += 0.2 * rng.NormFloat64()
	}
	x := randDense(n, net.InSize(), rng)
	z := nn.NewTape(net, loss).Forward(theta, x)
	y := mat.NewDense(n, loss.TargetDim(net.OutSize()), nil)
	for i := 0; i < n; i++ {
		loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
	}
	return theta, curvature.Batch{X: x, Y: y}
}

// Convolutional networks pass the model checks of package verify with
// every loss: gradient and Hessian-vector product against finite
// differences, GGN = Fisher through sampled labels, EF − ḡḡᵀ = C,
// symmetry and semi-definiteness of the dense matrices (which package
// curvature builds from matrix-free products here, the networks not being
// MLPs); K-FAC's one-sample exactness is checked for the dense layer and
// skipped for the convolutions, which share weights over R > 1 positions.
func TestConvNetModel(t *testing.T) {
	for name, net := range convNets(t) {
		require.LessOrEqual(t, net.NumParams(), 300)
		for _, loss := range []nn.Loss{nn.SoftmaxCrossEntropy{}, nn.MSE{}, nn.SigmoidBCE{}} {
			t.Run(name+"/"+loss.Name(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, 7))
				theta, b := convProblem(net, loss, 5, rng)
				rep, err := verify.Model(&curvature.Model{Net: net, Loss: loss}, theta, b, rng, &verify.Options{Samples: 4000})
				require.NoError(t, err)
				require.NoError(t, rep.Err(), rep.String())
			})
		}
	}
}

// naivePatch returns the augmented patch ā of conv at output location
// (a, b) of input row x, from the definition: x[c, a·sh + i − ph,
// b·sw + j − pw] in (c, i, j) order, zero in the padding, then 1.
func naivePatch(c nn.Conv2d, x []float64, a, b int) []float64 {
	sh, sw := max(c.Stride[0], 1), max(c.Stride[1], 1)
	var p []float64
	for ch := 0; ch < c.In; ch++ {
		for i := 0; i < c.Kernel[0]; i++ {
			for j := 0; j < c.Kernel[1]; j++ {
				ih, iw := a*sh+i-c.Padding[0], b*sw+j-c.Padding[1]
				v := 0.0
				if ih >= 0 && ih < c.H && iw >= 0 && iw < c.W {
					v = x[(ch*c.H+ih)*c.W+iw]
				}
				p = append(p, v)
			}
		}
	}
	return append(p, 1)
}

// K-FAC, EKFAC and the exact block-diagonal run on a convolutional network
// through the layer interfaces. The convolution's factors are checked
// against their definitions over its R output locations (the "expand"
// variant):
//
//	A = 1/(N·R) Σ_{n,r} ā_{n,r} ā_{n,r}ᵀ   from patches cut by hand,
//	G = 1/N Σ_n Σ_u Σ_r g_{n,r,u} g_{n,r,u}ᵀ
//
// with g_{n,r,u} = J_nᵀ u read at location r, J_n the Jacobian of the
// network output with respect to the convolution's output by central
// differences of the rest of the network, and u the columns of the
// output-Hessian factor S_n (exact) or the gradient at the true label
// (empirical). EKFAC's scales are those of the exact GGN in K-FAC's
// eigenbasis; the block-diagonal keeps the GGN's diagonal blocks.
func TestConvNetApprox(t *testing.T) {
	net := convNets(t)["conv-tanh-avgpool-flatten-dense"]
	loss := nn.SoftmaxCrossEntropy{}
	m := &curvature.Model{Net: net, Loss: loss}
	const n = 4
	rng := rand.New(rand.NewPCG(8, 8))
	theta, b := convProblem(net, loss, n, rng)
	conv := net.Layers[0].(nn.Conv2d)
	p, q, R := conv.KronShape()
	_, oh, ow := conv.OutShape()

	// The hand-made factors.
	A := mat.NewSymDense(q, nil)
	for s := 0; s < n; s++ {
		for a := 0; a < oh; a++ {
			for bb := 0; bb < ow; bb++ {
				A.SymRankOne(A, 1/float64(n*R), mat.NewVecDense(q, naivePatch(conv, b.X.RawRowView(s), a, bb)))
			}
		}
	}
	tail, err := nn.New(net.Layers[1:]...)
	require.NoError(t, err)
	tailTape := nn.NewTape(tail, loss)
	convOut := nn.NewTape(net, loss)
	convOut.Forward(theta, b.X)
	C := net.OutSize()
	factorG := func(vectors func(s int, z []float64) [][]float64) *mat.SymDense {
		G := mat.NewSymDense(p, nil)
		for s := 0; s < n; s++ {
			ys := convOut.Output(0).RawRowView(s)
			jac := mat.NewDense(C, len(ys), nil)
			fd.Jacobian(jac, func(z, y []float64) {
				copy(z, tailTape.Forward(theta[conv.NumParams():], mat.NewDense(1, len(y), y)).RawRowView(0))
			}, ys, &fd.JacobianSettings{Formula: fd.Central})
			for _, u := range vectors(s, convOut.Z().RawRowView(s)) {
				var gu mat.VecDense
				gu.MulVec(jac.T(), mat.NewVecDense(C, u))
				for r := 0; r < R; r++ {
					g := make([]float64, p)
					for o := range g {
						g[o] = gu.AtVec(o*R + r)
					}
					G.SymRankOne(G, 1/float64(n), mat.NewVecDense(p, g))
				}
			}
		}
		return G
	}
	exactG := factorG(func(_ int, z []float64) [][]float64 {
		S := mat.NewDense(C, C, nil)
		loss.Factor(S, z, nil)
		cols := make([][]float64, C)
		for c := range cols {
			cols[c] = mat.Col(nil, c, S)
		}
		return cols
	})
	empiricalG := factorG(func(s int, z []float64) [][]float64 {
		gz := mat.NewDense(1, C, nil)
		loss.Grad(gz, mat.NewDense(1, C, z), mat.NewDense(1, 1, b.Y.RawRowView(s)))
		return [][]float64{gz.RawRowView(0)}
	})

	for _, c := range []struct {
		kind approx.FactorKind
		G    *mat.SymDense
	}{{approx.ExactFactors, exactG}, {approx.EmpiricalFactors, empiricalG}} {
		t.Run("K-FAC "+c.kind.String(), func(t *testing.T) {
			k, err := approx.ModelKFAC(m, theta, b, &approx.KFACSettings{Factors: c.kind})
			require.NoError(t, err)
			require.Equal(t, 2, k.NumBlocks(), "the convolution and the dense layer")
			gotG, gotA := k.Kron(0).Factors()
			assert.Less(t, relDiffSym(gotA, A), 1e-13, "A over the R locations")
			assert.Less(t, relDiffSym(gotG, c.G), 1e-7, "G summed over the R locations")
		})
	}

	ggn, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	t.Run("EKFAC", func(t *testing.T) {
		e, err := approx.ModelEKFAC(m, theta, b, nil)
		require.NoError(t, err)
		want, err := approx.EKFACOf(e.KFAC(), ggn)
		require.NoError(t, err)
		for blk := 0; blk < e.NumBlocks(); blk++ {
			got, _ := e.Block(blk)
			ref, _ := want.Block(blk)
			gs, rs := got.(*approx.EigenKron).Scaling(), ref.(*approx.EigenKron).Scaling()
			assert.Less(t, floats.Distance(gs, rs, 2)/floats.Norm(rs, 2), 1e-10, "block %d", blk)
		}
	})

	for _, part := range []approx.Partition{approx.PerLayer, approx.PerNeuron} {
		t.Run("block-diagonal per "+part.String(), func(t *testing.T) {
			bd, err := approx.ModelBlockDiagonal(m, curvature.GGN, part, theta, b, nil)
			require.NoError(t, err)
			want := 2 // the convolution, the dense layer
			if part == approx.PerNeuron {
				want = p + 3 // each output channel, each output neuron
			}
			require.Equal(t, want, bd.NumBlocks())
			for blk := 0; blk < bd.NumBlocks(); blk++ {
				a, idx := bd.Block(blk)
				ref := mat.NewSymDense(len(idx), nil)
				for i, gi := range idx {
					for j, gj := range idx[i:] {
						ref.SetSym(i, i+j, ggn.At(gi, gj))
					}
				}
				assert.Less(t, relDiffSym(approx.Dense(a), ref), 1e-10, "block %d", blk)
			}
		})
	}
}

// relDiffSym returns ‖a − b‖_F / ‖b‖_F.
func relDiffSym(a, b mat.Symmetric) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / mat.Norm(b, 2)
}
