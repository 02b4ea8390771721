package approx

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/curvature/verify"
	"github.com/curvkit/curvkit/internal/randmat"
)

// denseKron returns kron(g, a) built by mat.Dense.Kronecker, the oracle.
func denseKron(g, a mat.Symmetric) *mat.SymDense {
	var k mat.Dense
	k.Kronecker(g, a)
	n, _ := k.Dims()
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, k.At(i, j))
		}
	}
	return s
}

func TestKronAgainstDense(t *testing.T) {
	shapes := []KronShape{{1, 1}, {3, 4}, {5, 2}, {4, 7}}
	settings := []struct {
		name string
		s    KronSettings
	}{
		{"exact/eigen", KronSettings{}},
		{"factored/eigen", KronSettings{Damping: FactoredDamping}},
		{"factored/cholesky", KronSettings{Damping: FactoredDamping, Solver: CholeskySolver}},
	}
	for _, sh := range shapes {
		for _, st := range settings {
			t.Run(st.name, func(t *testing.T) {
				rnd := newRand(uint64(7 + sh.G*10 + sh.A))
				g := randSPD(rnd, sh.G, 0.05)
				a := randSPD(rnd, sh.A, 0.05)
				k, err := NewKron(g, a, &st.s)
				require.NoError(t, err)
				dense := denseKron(g, a)
				n := sh.G * sh.A
				require.Equal(t, n, k.Dim())
				assert.Equal(t, 0.0, relDiffMat(k.Dense(), dense))

				v := randmat.Vec(rnd, n)
				got := make([]float64, n)
				k.MulVecTo(got, v)
				assert.InDelta(t, 0, relDiff(got, denseMulVec(dense, v)), 1e-13)

				// π from its definition, Martens & Grosse (2015) §6.3.
				pi := math.Sqrt((mat.Trace(a) / float64(sh.A)) / (mat.Trace(g) / float64(sh.G)))
				for _, lambda := range []float64{0, 1e-3, 0.7, 0.7} {
					var want []float64
					var wantLD float64
					if st.s.Damping == ExactDamping {
						want = denseSolve(t, dense, v, lambda)
						wantLD = denseLogDet(t, dense, lambda)
					} else {
						r := math.Sqrt(lambda)
						fd := denseKron(randmat.Shifted(g, r/pi), randmat.Shifted(a, pi*r))
						want = denseSolve(t, fd, v, 0)
						wantLD = denseLogDet(t, fd, 0)
					}
					require.NoError(t, k.SolveDampedTo(got, v, lambda))
					assert.InDelta(t, 0, relDiff(got, want), 1e-9, "solve λ=%v", lambda)
					ld, err := k.LogDet(lambda)
					require.NoError(t, err)
					assert.InDelta(t, wantLD, ld, 1e-9*math.Max(1, math.Abs(wantLD)), "log det λ=%v", lambda)
				}
				assert.InDelta(t, mat.Trace(dense), k.Trace(), 1e-12*math.Abs(mat.Trace(dense)))
				ld, err := k.LogDet(0)
				require.NoError(t, err)
				want := denseLogDet(t, dense, 0)
				assert.InDelta(t, want, ld, 1e-9*math.Max(1, math.Abs(want)))
				assert.Equal(t, sh.G*sh.G+sh.A*sh.A, k.Floats())
			})
		}
	}
}

func TestKFACAgainstDense(t *testing.T) {
	rnd := newRand(11)
	shapes := LayerShapes(4, 3, 5, 2)
	require.Equal(t, []KronShape{{3, 5}, {5, 4}, {2, 6}}, shapes)
	gs, as := make([]mat.Symmetric, len(shapes)), make([]mat.Symmetric, len(shapes))
	var blocks []Approximation
	var sizes []int
	for l, sh := range shapes {
		gs[l], as[l] = randSPD(rnd, sh.G, 0.1), randSPD(rnd, sh.A, 0.1)
		blocks = append(blocks, &SymMatrix{m: denseKron(gs[l], as[l])})
		sizes = append(sizes, sh.G*sh.A)
	}
	oracle, err := NewBlockDiagonal(blocks, Ranges(sizes...))
	require.NoError(t, err)
	dense := oracle.Dense()
	for _, damping := range []Damping{ExactDamping, FactoredDamping} {
		k := kfacOfFactors(t, gs, as, &KFACSettings{Damping: damping})
		n := k.Dim()
		assert.Equal(t, 0.0, relDiffMat(k.Dense(), dense))
		v := randmat.Vec(rnd, n)
		got := make([]float64, n)
		k.MulVecTo(got, v)
		assert.InDelta(t, 0, relDiff(got, denseMulVec(dense, v)), 1e-13)
		assert.InDelta(t, mat.Trace(dense), k.Trace(), 1e-12*mat.Trace(dense))
		ld, err := k.LogDet(0)
		require.NoError(t, err)
		assert.InDelta(t, denseLogDet(t, dense, 0), ld, 1e-9)
		require.NoError(t, k.SolveDampedTo(got, v, 0.3))
		if damping == ExactDamping {
			assert.InDelta(t, 0, relDiff(got, denseSolve(t, dense, v, 0.3)), 1e-10)
		} else {
			// Layer by layer, the factored damped block.
			for l := range shapes {
				kr := k.Kron(l)
				sg, sa := kr.factoredShifts(0.3)
				fd := denseKron(randmat.Shifted(kr.g, sg), randmat.Shifted(kr.a, sa))
				off := 0
				for _, s := range sizes[:l] {
					off += s
				}
				want := denseSolve(t, fd, v[off:off+sizes[l]], 0)
				assert.InDelta(t, 0, relDiff(got[off:off+sizes[l]], want), 1e-10)
			}
		}
		total := 0
		for _, sh := range shapes {
			total += sh.G*sh.G + sh.A*sh.A
		}
		assert.Equal(t, total, k.Floats())
		net, err := nn.NewMLP([]int{4, 3, 5, 2}, []string{"tanh", "tanh", "identity"})
		require.NoError(t, err)
		_, err = NewKFAC(net, &KFACSettings{Budget: total - 1})
		var be *curvature.BudgetError
		assert.True(t, errors.As(err, &be))
		_, err = NewKFAC(net, &KFACSettings{Budget: total})
		assert.NoError(t, err)
	}
}

func TestKronErrors(t *testing.T) {
	g := mat.NewSymDense(2, []float64{1, 0, 0, -1})
	a := mat.NewSymDense(2, []float64{2, 0, 0, 1})
	_, err := NewKron(g, a, &KronSettings{Solver: CholeskySolver})
	assert.Error(t, err, "exact damping with Cholesky")
	_, err = NewKron(g, mat.NewSymDense(1, []float64{math.Inf(1)}), nil)
	assert.Error(t, err)

	x, v := make([]float64, 4), []float64{1, 2, 3, 4}
	for _, s := range []KronSettings{{}, {Damping: FactoredDamping}, {Damping: FactoredDamping, Solver: CholeskySolver}} {
		k, err := NewKron(g, a, &s)
		require.NoError(t, err)
		err = k.SolveDampedTo(x, v, 0.5)
		assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite), "settings %+v: %v", s, err)
		_, err = k.LogDet(0)
		assert.True(t, errors.Is(err, curvature.ErrNotPositiveDefinite))
		assert.Error(t, k.SolveDampedTo(x, v, -1))
	}
	// Exact damping: G⊗A has eigenvalues −2, −1, 1, 2; λ = 2.5 makes it PD.
	k, _ := NewKron(g, a, nil)
	assert.NoError(t, k.SolveDampedTo(x, v, 2.5))
}

func TestKronBudget(t *testing.T) {
	g, a := randSPD(newRand(12), 3, 0.1), randSPD(newRand(13), 4, 0.1)
	_, err := NewKron(g, a, &KronSettings{Budget: 24})
	var be *curvature.BudgetError
	assert.True(t, errors.As(err, &be), "3²+4² = 25 > 24")
	_, err = NewKron(g, a, &KronSettings{Budget: 25})
	assert.NoError(t, err)
}

// K-FAC is exact where it must be: with exact factors on one sample, every
// layer's kron(G, A) is the GGN block, whatever the network and loss (one
// sample makes E[δδᵀ ⊗ āāᵀ] = E[δδᵀ] ⊗ E[āāᵀ]); with empirical factors on
// one sample, it is the empirical Fisher block.
func TestKFACExactOnOneSample(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		t.Run(loss.Name(), func(t *testing.T) {
			m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, loss, 1, 1)
			for _, c := range []struct {
				kind   FactorKind
				matrix curvature.Kind
			}{{ExactFactors, curvature.GGN}, {EmpiricalFactors, curvature.EmpiricalFisher}} {
				k, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: c.kind})
				require.NoError(t, err)
				require.Equal(t, 2, k.NumBlocks())
				for l := 0; l < k.NumBlocks(); l++ {
					blk, err := m.Block(c.matrix, l, theta, b, nil)
					require.NoError(t, err)
					assert.Less(t, relDiffMat(kronBlock(k.Kron(l)), blk), 1e-13, "%v layer %d", c.kind, l)
				}
			}
		})
	}
}

// For a deep linear network with the MSE loss the backpropagated factor is
// the same for every sample, so K-FAC (exact factors) equals every GGN
// layer block on a whole batch.
func TestKFACExactDeepLinear(t *testing.T) {
	m, theta, b := netFixture(t, []int{4, 3, 3, 2}, []string{"identity", "identity", "identity"}, nn.MSE{}, 20, 2)
	k, err := ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)
	require.Equal(t, 3, k.NumBlocks())
	for l := 0; l < k.NumBlocks(); l++ {
		blk, err := m.Block(curvature.GGN, l, theta, b, nil)
		require.NoError(t, err)
		assert.Less(t, relDiffMat(kronBlock(k.Kron(l)), blk), 1e-13, "layer %d", l)
	}
	// And not for a nonlinear one: the factorisation is an approximation.
	m2, theta2, b2 := netFixture(t, []int{4, 3, 2}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 20, 3)
	k2, err := ModelKFAC(m2, theta2, b2, nil)
	require.NoError(t, err)
	blk, err := m2.Block(curvature.GGN, 0, theta2, b2, nil)
	require.NoError(t, err)
	assert.Greater(t, relDiffMat(kronBlock(k2.Kron(0)), blk), 1e-3)
}

// Monte-Carlo factors approach the exact ones as the number of sampled
// labels grows (relative error below 0.05 at 4000 draws and below a fifth
// of the error at 40).
func TestKFACMonteCarloConverges(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 10, 4)
	exact, err := ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)
	errAt := func(samples int) float64 {
		k, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: MCFactors, Samples: samples, Seed: 1})
		require.NoError(t, err)
		worst := 0.0
		for l := 0; l < k.NumBlocks(); l++ {
			g, a := k.Kron(l).Factors()
			eg, ea := exact.Kron(l).Factors()
			assert.Equal(t, ea, a)
			worst = max(worst, relDiffMat(g, eg))
		}
		return worst
	}
	small, large := errAt(40), errAt(4000)
	assert.Less(t, large, 0.05)
	assert.Less(t, large, small/5)
}

// The K-FAC approximation built from a network solves with damping like
// the dense kron(G, A) + λI, per block.
func TestModelKFACSolve(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"relu", "identity"}, nn.SigmoidBCE{}, 8, 5)
	k, err := ModelKFAC(m, theta, b, nil)
	require.NoError(t, err)
	dense := mat.NewSymDense(m.Net.NumParams(), nil)
	for l, r := range m.ParamBlocks() {
		kb := kronBlock(k.Kron(l))
		for i := r[0]; i < r[1]; i++ {
			for j := i; j < r[1]; j++ {
				dense.SetSym(i, j, kb.At(i-r[0], j-r[0]))
			}
		}
	}
	v := randmat.Vec(newRand(6), m.Net.NumParams())
	got := make([]float64, len(v))
	require.NoError(t, k.SolveDampedTo(got, v, 0.1))
	assert.Less(t, relDiff(got, denseSolve(t, dense, v, 0.1)), 1e-10)
}

func TestModelKFACErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	_, err := ModelKFAC(m, theta, b, &KFACSettings{Samples: -1})
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta, b, &KFACSettings{Factors: 7})
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta[1:], b, nil)
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta, curvature.Batch{}, nil)
	assert.Error(t, err)
	_, err = ParseFactorKind("kflr")
	assert.Error(t, err)
	kind, err := ParseFactorKind("mc")
	require.NoError(t, err)
	assert.Equal(t, MCFactors, kind)
}

// Update is the running average of two batches' statistics:
// ε·F(batch 1) + (1−ε)·F(batch 2), entry by entry, for every kind of
// factor (the Monte-Carlo draws replayed from the same seeds).
func TestKFACUpdate(t *testing.T) {
	m, theta, b1 := netFixture(t, []int{5, 7, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 9, 11)
	_, _, b2 := netFixture(t, []int{5, 7, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 13, 12)
	const eps = 0.8
	for _, kind := range []FactorKind{ExactFactors, MCFactors, EmpiricalFactors} {
		t.Run(kind.String(), func(t *testing.T) {
			rng := func(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }
			k1, err := ModelKFAC(m, theta, b1, &KFACSettings{Factors: kind, Seed: 1})
			require.NoError(t, err)
			k2, err := ModelKFAC(m, theta, b2, &KFACSettings{Factors: kind, Seed: 2})
			require.NoError(t, err)
			// One generator replaying seed 1 then seed 2's draws is not
			// possible, so the running K-FAC takes batch 1 with seed 1's
			// generator and batch 2 after its generator is swapped.
			run, err := NewKFAC(m.Net, &KFACSettings{Factors: kind, Rand: rng(1)})
			require.NoError(t, err)
			tape := func(b curvature.Batch) *nn.Tape {
				tp := nn.NewTape(m.Net, m.Loss)
				tp.Forward(theta, b.X)
				return tp
			}
			require.NoError(t, run.Update(tape(b1), b1.Y, 0))
			run.rng = rng(2)
			require.NoError(t, run.Update(tape(b2), b2.Y, eps))
			for l := 0; l < run.NumBlocks(); l++ {
				rg, ra := run.Kron(l).Factors()
				g1, a1 := k1.Kron(l).Factors()
				g2, a2 := k2.Kron(l).Factors()
				for _, f := range [][3]mat.Symmetric{{ra, a1, a2}, {rg, g1, g2}} {
					var want mat.SymDense
					want.ScaleSym(eps, f[1])
					var part mat.SymDense
					part.ScaleSym(1-eps, f[2])
					want.AddSym(&want, &part)
					assert.Less(t, relDiffMat(f[0], &want), 1e-14, "layer %d", l)
				}
			}
			// Products after an update see it (the factors' lower
			// triangles follow the statistics written to the upper ones).
			v := randmat.Vec(newRand(13), run.Dim())
			got := make([]float64, len(v))
			run.MulVecTo(got, v)
			assert.Less(t, relDiff(got, denseMulVec(run.Dense(), v)), 1e-13)
		})
	}
}

func TestKFACUpdateErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 7)
	tp := nn.NewTape(m.Net, m.Loss)
	tp.Forward(theta, b.X)
	k, err := NewKFAC(m.Net, nil)
	require.NoError(t, err)
	for _, decay := range []float64{1, -0.1, math.NaN()} {
		assert.Error(t, k.Update(tp, b.Y, decay), "decay %v", decay)
	}
	// Non-finite statistics are reported, not kept silently, with the
	// statistic and its value: ā āᵀ of an input of 1e200 overflows to +Inf.
	bad := mat.DenseCopyOf(b.X)
	bad.Set(0, 0, 1e200)
	tp.Forward(theta, bad)
	err = k.Update(tp, b.Y, 0)
	assert.ErrorIs(t, err, curvature.ErrNonFinite)
	assert.ErrorContains(t, err, "K-FAC statistics of layer 0: A[0, 0] = +Inf")
	// A tape of another network is a programming error.
	other, err := nn.NewMLP([]int{3, 4, 2}, []string{"tanh", "identity"})
	require.NoError(t, err)
	assert.Panics(t, func() { _ = k.Update(nn.NewTape(other, m.Loss), b.Y, 0) })
}

// NewKFAC checks the memory budget before it allocates: a 100000→10 layer
// would need 10¹⁰ floats for its A factor.
func TestNewKFACBudget(t *testing.T) {
	net, err := nn.NewMLP([]int{100000, 10}, []string{"identity"})
	require.NoError(t, err)
	_, err = NewKFAC(net, &KFACSettings{Budget: 1 << 28})
	var be *curvature.BudgetError
	require.ErrorAs(t, err, &be)
}

// With the default budget (settings nil) the same network is refused too.
func TestNewKFACDefaultBudget(t *testing.T) {
	net, err := nn.NewMLP([]int{100000, 10}, []string{"identity"})
	require.NoError(t, err)
	_, err = NewKFAC(net, nil)
	var be *curvature.BudgetError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, curvature.DefaultBudget, be.Budget)
}

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

// K-FAC approximates the Fisher: with exact factors on one sample every
// layer's kron(G, A) is the Fisher block, from the output Fisher's factor,
// for the losses whose Fisher is not their GGN.
func TestKFACExactOnOneSampleFisher(t *testing.T) {
	for _, loss := range labelled {
		t.Run(loss.Name(), func(t *testing.T) {
			m, theta, b := labelledFixture(t, []int{3, 4, 4}, []string{"tanh", "identity"}, loss, 1, 2)
			k, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: ExactFactors})
			require.NoError(t, err)
			for l := 0; l < k.NumBlocks(); l++ {
				F, err := m.Block(curvature.Fisher, l, theta, b, nil)
				require.NoError(t, err)
				G, err := m.Block(curvature.GGN, l, theta, b, nil)
				require.NoError(t, err)
				assert.Less(t, relDiffMat(kronBlock(k.Kron(l)), F), 1e-13, "layer %d", l)
				assert.Greater(t, relDiffMat(F, G), 1e-3, "layer %d: the Fisher block is not the GGN's", l)
			}
		})
	}
}

// hidden is the Gaussian negative log-likelihood without its output
// Fisher: its output Hessian factor has negative columns.
type hidden struct{ nn.Loss }

// Exact K-FAC factors of a loss whose output Hessian is indefinite and
// which has no output Fisher are refused, with θ's statistics untouched;
// the empirical factors need neither.
func TestKFACRefusesIndefiniteFactor(t *testing.T) {
	m, theta, b := labelledFixture(t, []int{3, 4, 4}, []string{"tanh", "identity"}, nn.GaussianNLL{}, 5, 3)
	m.Loss = hidden{nn.GaussianNLL{}}
	_, err := ModelKFAC(m, theta, b, &KFACSettings{Factors: ExactFactors})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "negative columns")
	_, err = ModelEKFAC(m, theta, b, &KFACSettings{Factors: ExactFactors})
	assert.Error(t, err)
	_, err = ModelKFAC(m, theta, b, &KFACSettings{Factors: EmpiricalFactors})
	assert.NoError(t, err)
}

// integerWeights drop a sample (0) and count others up to three times.
var integerWeights = []int{2, 0, 1, 3, 1, 2, 0, 1}

// repeatRows returns the batch whose sample i appears w[i] times, and the
// weights as floats.
func repeatRows(b curvature.Batch, w []int) (curvature.Batch, []float64) {
	_, cx := b.X.Dims()
	_, cy := b.Y.Dims()
	var xs, ys []float64
	fw := make([]float64, len(w))
	for i, k := range w {
		fw[i] = float64(k)
		for range k {
			xs = append(xs, b.X.RawRowView(i)...)
			ys = append(ys, b.Y.RawRowView(i)...)
		}
	}
	n := len(xs) / cx
	return curvature.Batch{X: mat.NewDense(n, cx, xs), Y: mat.NewDense(n, cy, ys)}, fw
}

// With integer sample weights K-FAC's factors, every kind of block, and
// EKFAC's scales equal those of the batch with each sample repeated that
// many times: on an MLP with a layer norm (a dense block), and on a layer
// that shares its weights over positions with both K-FACs of weight
// sharing.
func TestKFACWeightsRepeatRows(t *testing.T) {
	mlp, err := nn.New(nn.Dense{In: 3, Out: 5}, nn.Elementwise{Size: 5, Act: nn.Tanh{}}, nn.LayerNorm{Size: 5}, nn.Dense{In: 5, Out: 4})
	require.NoError(t, err)
	type netCase struct {
		name string
		m    *curvature.Model
		th   []float64
		b    curvature.Batch
		ws   []WeightSharing
	}
	var cases []netCase
	for _, loss := range append([]nn.Loss{nn.SoftmaxCrossEntropy{}}, labelled...) {
		m, theta, b := labelledFixture(t, []int{3, 5, 4}, []string{"tanh", "identity"}, loss, len(integerWeights), 4)
		if _, ok := loss.(nn.SoftmaxCrossEntropy); ok {
			for i := 0; i < b.Len(); i++ {
				b.Y.Set(i, 0, float64(i%4))
			}
		}
		m.Net = mlp
		theta = make([]float64, mlp.NumParams())
		mlp.Init(theta, newRand(5))
		cases = append(cases, netCase{"layernorm/" + loss.Name(), m, theta, b, []WeightSharing{Expand}})
	}
	sm, stheta, sb := sharingModel(t, shared{in: 2, out: 3, r: 3}, len(integerWeights))
	cases = append(cases, netCase{"shared", sm, stheta, sb, []WeightSharing{Expand, Reduce}})
	for _, c := range cases {
		rb, w := repeatRows(c.b, integerWeights)
		wb := c.b
		wb.W = w
		for _, ws := range c.ws {
			for _, kind := range []FactorKind{ExactFactors, EmpiricalFactors} {
				t.Run(fmt.Sprintf("%s/%v/%d", c.name, kind, ws), func(t *testing.T) {
					set := &KFACSettings{Factors: kind, WeightSharing: ws}
					got, err := ModelEKFAC(c.m, c.th, wb, set)
					require.NoError(t, err)
					want, err := ModelEKFAC(c.m, c.th, rb, set)
					require.NoError(t, err)
					assert.Less(t, relDiffMat(got.KFAC().Dense(), want.KFAC().Dense()), 1e-13, "K-FAC")
					for l := 0; l < got.NumBlocks(); l++ {
						if kr := got.KFAC().Kron(l); kr != nil {
							g, a := kr.Factors()
							wg, wa := want.KFAC().Kron(l).Factors()
							assert.Less(t, relDiffMat(g, wg), 1e-13, "G of layer %d", l)
							assert.Less(t, relDiffMat(a, wa), 1e-13, "A of layer %d", l)
						}
						gb, _ := got.Block(l)
						wbk, _ := want.Block(l)
						if e, ok := gb.(*EigenKron); ok {
							assert.Less(t, relDiff(e.Scaling(), wbk.(*EigenKron).Scaling()), 1e-12, "EKFAC scales of layer %d", l)
						}
					}
				})
			}
		}
	}
}
