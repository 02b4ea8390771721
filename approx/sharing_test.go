package approx

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
)

// shared applies one affine map [W | b] (out×(in+1)) at r positions: the
// input of position p is x[p·in:(p+1)·in], or all of x when broadcast, and
// the output is laid out channel-major, y[o·r + p], as a convolution's.
type shared struct {
	in, out, r int
	broadcast  bool
}

func (s shared) InSize() int {
	if s.broadcast {
		return s.in
	}
	return s.in * s.r
}
func (s shared) OutSize() int                           { return s.out * s.r }
func (s shared) NumParams() int                         { return s.out * (s.in + 1) }
func (s shared) KronShape() (p, q, positions int)       { return s.out, s.in + 1, s.r }
func (s shared) KronGrads(dst, g *mat.Dense) *mat.Dense { return s.gather(dst, g) }

func (s shared) Init(theta []float64, _ nn.Activation, rng *rand.Rand) {
	for i := range theta {
		theta[i] = 0.5 * rng.NormFloat64()
	}
}

// KronInputs stores [x_p; 1] in row n·r + p.
func (s shared) KronInputs(dst, x *mat.Dense) *mat.Dense {
	n, _ := x.Dims()
	dst = reshape(dst, n*s.r, s.in+1)
	for i := 0; i < n; i++ {
		for p := 0; p < s.r; p++ {
			row := dst.RawRowView(i*s.r + p)
			copy(row, s.input(x.RawRowView(i), p))
			row[s.in] = 1
		}
	}
	return dst
}

func (s shared) input(x []float64, p int) []float64 {
	if s.broadcast {
		return x
	}
	return x[p*s.in : (p+1)*s.in]
}

// gather rearranges the N×(out·r) channel-major g into (N·r)×out.
func (s shared) gather(dst, g *mat.Dense) *mat.Dense {
	n, _ := g.Dims()
	dst = reshape(dst, n*s.r, s.out)
	for i := 0; i < n; i++ {
		for p := 0; p < s.r; p++ {
			for o := 0; o < s.out; o++ {
				dst.Set(i*s.r+p, o, g.At(i, o*s.r+p))
			}
		}
	}
	return dst
}

// apply stores Σ_j θ[o,j] u_p[j] (+ θ[o,in] when bias) at y[o·r + p].
func (s shared) apply(y []float64, u []float64, theta []float64, bias bool) {
	q := s.in + 1
	for p := 0; p < s.r; p++ {
		up := s.input(u, p)
		for o := 0; o < s.out; o++ {
			v := 0.0
			if bias {
				v = theta[o*q+s.in]
			}
			for j, x := range up {
				v += theta[o*q+j] * x
			}
			y[o*s.r+p] += v
		}
	}
}

// applyT adds Σ_{o,p} θ[o,j] g[o·r+p] to dx_p[j].
func (s shared) applyT(dx []float64, g []float64, theta []float64) {
	q := s.in + 1
	for p := 0; p < s.r; p++ {
		dp := s.input(dx, p)
		for o := 0; o < s.out; o++ {
			for j := range dp {
				dp[j] += theta[o*q+j] * g[o*s.r+p]
			}
		}
	}
}

// outer adds Σ_p g[o·r+p] [u_p; bias] to the row-major dθ.
func (s shared) outer(dtheta []float64, g, u []float64, bias bool) {
	q := s.in + 1
	for p := 0; p < s.r; p++ {
		up := s.input(u, p)
		for o := 0; o < s.out; o++ {
			gv := g[o*s.r+p]
			for j, x := range up {
				dtheta[o*q+j] += gv * x
			}
			if bias {
				dtheta[o*q+s.in] += gv
			}
		}
	}
}

func (s shared) Forward(y, x *mat.Dense, theta []float64) {
	y.Zero()
	n, _ := x.Dims()
	for i := 0; i < n; i++ {
		s.apply(y.RawRowView(i), x.RawRowView(i), theta, true)
	}
}

func (s shared) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	dy.Zero()
	n, _ := x.Dims()
	for i := 0; i < n; i++ {
		if dx != nil {
			s.apply(dy.RawRowView(i), dx.RawRowView(i), theta, false)
		}
		if dtheta != nil {
			s.apply(dy.RawRowView(i), x.RawRowView(i), dtheta, true)
		}
	}
}

func (s shared) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	n, _ := x.Dims()
	if dx != nil {
		dx.Zero()
	}
	if dtheta != nil {
		clear(dtheta)
	}
	for i := 0; i < n; i++ {
		if dx != nil {
			s.applyT(dx.RawRowView(i), g.RawRowView(i), theta)
		}
		if dtheta != nil {
			s.outer(dtheta, g.RawRowView(i), x.RawRowView(i), true)
		}
	}
}

func (s shared) PerSampleVJP(dst, x, _ *mat.Dense, _ []float64, g *mat.Dense) {
	dst.Zero()
	n, _ := x.Dims()
	for i := 0; i < n; i++ {
		s.outer(dst.RawRowView(i), g.RawRowView(i), x.RawRowView(i), true)
	}
}

func (s shared) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, x, _ *mat.Dense, _ []float64, g, dx *mat.Dense, dtheta []float64) {
	n, _ := x.Dims()
	for i := 0; i < n; i++ {
		if rdx != nil && dtheta != nil {
			s.applyT(rdx.RawRowView(i), g.RawRowView(i), dtheta)
		}
		if rdtheta != nil && dx != nil {
			s.outer(rdtheta, g.RawRowView(i), dx.RawRowView(i), false)
		}
	}
}

// sharingModel is shared → tanh → Dense(out·r → 3) with the softmax
// cross-entropy on n random samples.
func sharingModel(t *testing.T, s shared, n int) (*curvature.Model, []float64, curvature.Batch) {
	t.Helper()
	net, err := nn.New(s, nn.Elementwise{Size: s.OutSize(), Act: nn.Tanh{}}, nn.Dense{In: s.OutSize(), Out: 3})
	require.NoError(t, err)
	rng := newRand(91)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	x := randDense(rng, n, s.InSize())
	y := mat.NewDense(n, 1, nil)
	for i := 0; i < n; i++ {
		y.Set(i, 0, float64(rng.IntN(3)))
	}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, curvature.Batch{X: x, Y: y}
}

// Both weight-sharing K-FACs against their definitions, computed here
// sample by sample from the layer's inputs and the exact output-Hessian
// factor's backpropagated gradients; and Reduce is the GGN's block exactly
// on one sample whose positions share their input.
func TestWeightSharing(t *testing.T) {
	s := shared{in: 2, out: 3, r: 4}
	rep := verify.Layer(s, 3, newRand(92), nil)
	require.NoError(t, rep.Err(), "%v", rep)

	m, theta, b := sharingModel(t, s, 5)
	tape := nn.NewTape(m.Net, m.Loss)
	z := tape.Forward(theta, b.X)
	n, C := z.Dims()
	abar := s.KronInputs(nil, b.X)
	wantA := map[WeightSharing]*mat.Dense{Expand: mat.NewDense(3, 3, nil), Reduce: mat.NewDense(3, 3, nil)}
	wantG := map[WeightSharing]*mat.Dense{Expand: mat.NewDense(3, 3, nil), Reduce: mat.NewDense(3, 3, nil)}
	for i := 0; i < n; i++ {
		sum := mat.NewVecDense(3, nil)
		for p := 0; p < s.r; p++ {
			a := mat.NewVecDense(3, abar.RawRowView(i*s.r+p))
			var o mat.Dense
			o.Outer(1/float64(n*s.r), a, a)
			wantA[Expand].Add(wantA[Expand], &o)
			sum.AddVec(sum, a)
		}
		var o mat.Dense
		o.Outer(1/float64(n*s.r*s.r), sum, sum)
		wantA[Reduce].Add(wantA[Reduce], &o)
	}
	S := mat.NewDense(C, C, nil)
	for c := 0; c < C; c++ {
		u := mat.NewDense(n, C, nil)
		for i := 0; i < n; i++ {
			m.Loss.Factor(S, z.RawRowView(i), nil)
			for k := 0; k < C; k++ {
				u.Set(i, k, S.At(k, c))
			}
		}
		tape.BackpropOutput(u, func(k int, g *mat.Dense) {
			if k != 0 {
				return
			}
			gs := s.KronGrads(nil, g)
			for i := 0; i < n; i++ {
				sum := mat.NewVecDense(3, nil)
				for p := 0; p < s.r; p++ {
					v := mat.NewVecDense(3, gs.RawRowView(i*s.r+p))
					var o mat.Dense
					o.Outer(1/float64(n), v, v)
					wantG[Expand].Add(wantG[Expand], &o)
					sum.AddVec(sum, v)
				}
				var o mat.Dense
				o.Outer(1/float64(n), sum, sum)
				wantG[Reduce].Add(wantG[Reduce], &o)
			}
		})
	}
	for _, ws := range []WeightSharing{Expand, Reduce} {
		k, err := ModelKFAC(m, theta, b, &KFACSettings{WeightSharing: ws})
		require.NoError(t, err)
		g, a := k.Kron(0).Factors()
		assert.Less(t, relDiffMat(a, wantA[ws]), 1e-14, "%v A", ws)
		assert.Less(t, relDiffMat(g, wantG[ws]), 1e-13, "%v G", ws)
	}
	_, err := NewKFAC(m.Net, &KFACSettings{WeightSharing: 7})
	assert.Error(t, err)

	// One sample, positions sharing their input: Reduce is exact.
	bs := shared{in: 2, out: 3, r: 4, broadcast: true}
	m1, theta1, b1 := sharingModel(t, bs, 1)
	k, err := ModelKFAC(m1, theta1, b1, &KFACSettings{WeightSharing: Reduce})
	require.NoError(t, err)
	blk, err := m1.Block(curvature.GGN, 0, theta1, b1, nil)
	require.NoError(t, err)
	assert.Less(t, relDiffMat(kronBlock(k.Kron(0)), blk), 1e-13)
	ke, err := ModelKFAC(m1, theta1, b1, nil)
	require.NoError(t, err)
	assert.Greater(t, relDiffMat(kronBlock(ke.Kron(0)), blk), 1e-3, "Expand is not exact here")
}
