package approx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/randmat"
)

// randSym returns a symmetric n×n matrix with standard normal entries.
func randSym(rnd *rand.Rand, n int) *mat.SymDense {
	m := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			m.SetSym(i, j, rnd.NormFloat64())
		}
	}
	return m
}

// randSPD returns B Bᵀ/n + shift·I with B n×n standard normal: symmetric
// positive definite with eigenvalues ≥ shift.
func randSPD(rnd *rand.Rand, n int, shift float64) *mat.SymDense {
	b := randDense(rnd, n, n)
	m := mat.NewSymDense(n, nil)
	m.SymOuterK(1/float64(n), b)
	for i := 0; i < n; i++ {
		m.SetSym(i, i, m.At(i, i)+shift)
	}
	return m
}

func randDense(rnd *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rnd.NormFloat64())
		}
	}
	return m
}

// denseSolve returns (m + λI)⁻¹ v by a dense Cholesky factorisation, the
// oracle for every structured solve.
func denseSolve(t testing.TB, m mat.Symmetric, v []float64, lambda float64) []float64 {
	t.Helper()
	n := m.SymmetricDim()
	var c mat.Cholesky
	if !c.Factorize(randmat.Shifted(m, lambda)) {
		t.Fatalf("oracle: matrix + %v·I is not positive definite", lambda)
	}
	x := mat.NewVecDense(n, nil)
	_ = c.SolveVecTo(x, mat.NewVecDense(n, v))
	return x.RawVector().Data
}

// denseLogDet returns log det(m + λI) by dense Cholesky.
func denseLogDet(t testing.TB, m mat.Symmetric, lambda float64) float64 {
	t.Helper()
	var c mat.Cholesky
	if !c.Factorize(randmat.Shifted(m, lambda)) {
		t.Fatalf("oracle: matrix + %v·I is not positive definite", lambda)
	}
	return c.LogDet()
}

func denseMulVec(m mat.Matrix, v []float64) []float64 {
	r, _ := m.Dims()
	out := mat.NewVecDense(r, nil)
	out.MulVec(m, mat.NewVecDense(len(v), v))
	return out.RawVector().Data
}

// relDiff returns ‖a−b‖/max(‖b‖, tiny).
func relDiff(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-300)
}

// relDiffMat returns ‖a−b‖_F/‖b‖_F.
func relDiffMat(a, b mat.Matrix) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / math.Max(mat.Norm(b, 2), 1e-300)
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// kfacOfFactors returns a K-FAC (with no network: it cannot Update) whose
// Kronecker blocks hold copies of the factors gs[l], as[l], eigendecomposed
// when the settings' solver is the eigen solver.
func kfacOfFactors(t testing.TB, gs, as []mat.Symmetric, s *KFACSettings) *KFAC {
	t.Helper()
	var set KFACSettings
	if s != nil {
		set = *s
	}
	require.NoError(t, set.check())
	blocks := make([]netBlock, len(gs))
	off := 0
	for l := range gs {
		p, q := gs[l].SymmetricDim(), as[l].SymmetricDim()
		blocks[l] = netBlock{layer: l, lo: off, hi: off + p*q, structure: nn.KroneckerBlock, p: p, q: q, r: 1}
		off += p * q
	}
	k, err := newKFAC(nil, blocks, set)
	require.NoError(t, err)
	for l, kr := range k.krons {
		copyFull(kr.g, gs[l])
		copyFull(kr.a, as[l])
	}
	if set.Solver == EigenSolver {
		require.NoError(t, k.Factorize(0))
	}
	return k
}

// randKFAC returns a K-FAC with random SPD factors of the given shapes.
func randKFAC(t testing.TB, seed uint64, shapes []KronShape, s *KFACSettings) *KFAC {
	rnd := newRand(seed)
	gs, as := make([]mat.Symmetric, len(shapes)), make([]mat.Symmetric, len(shapes))
	for l, sh := range shapes {
		gs[l], as[l] = randSPD(rnd, sh.G, 0.1), randSPD(rnd, sh.A, 0.1)
	}
	return kfacOfFactors(t, gs, as, s)
}

// kronEigenvalues returns λ_G,a·λ_A,b of each Kronecker block, row-major.
func kronEigenvalues(t testing.TB, k *KFAC) [][]float64 {
	s := make([][]float64, k.NumBlocks())
	for l := range s {
		g, a := k.Kron(l).Factors()
		var eg, ea mat.EigenSym
		require.True(t, eg.Factorize(g, false))
		require.True(t, ea.Factorize(a, false))
		for _, x := range eg.Values(nil) {
			for _, y := range ea.Values(nil) {
				s[l] = append(s[l], x*y)
			}
		}
	}
	return s
}

// kronAt returns block l of a block diagonal of Kronecker products.
func kronAt(bd *BlockDiagonal, l int) *Kron {
	b, _ := bd.Block(l)
	return b.(*Kron)
}

// netFixture is a random MLP, loss and batch.
func netFixture(t testing.TB, sizes []int, acts []string, loss nn.Loss, n int, seed uint64) (*curvature.Model, []float64, curvature.Batch) {
	t.Helper()
	net, err := nn.NewMLP(sizes, acts)
	require.NoError(t, err)
	rnd := newRand(seed)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rnd)
	for i := range theta {
		theta[i] += 0.2 * rnd.NormFloat64()
	}
	C := sizes[len(sizes)-1]
	x := randDense(rnd, n, sizes[0])
	y := mat.NewDense(n, loss.TargetDim(C), nil)
	for i := 0; i < n; i++ {
		for k := 0; k < loss.TargetDim(C); k++ {
			switch loss.(type) {
			case nn.SoftmaxCrossEntropy:
				y.Set(i, k, float64(rnd.IntN(C)))
			case nn.SigmoidBCE:
				y.Set(i, k, float64(rnd.IntN(2)))
			default:
				y.Set(i, k, rnd.NormFloat64())
			}
		}
	}
	return &curvature.Model{Net: net, Loss: loss}, theta, curvature.Batch{X: x, Y: y}
}

// kronBlock returns kron(G, A) of a Kronecker block as a dense matrix.
func kronBlock(k *Kron) *mat.Dense {
	g, a := k.Factors()
	var d mat.Dense
	d.Kronecker(g, a)
	return &d
}

// labelled are the losses whose output Fisher is not their output Hessian,
// for networks of 4 outputs.
var labelled = []nn.Loss{nn.GaussianNLL{}, nn.WeightedSoftmaxCrossEntropy{Weights: []float64{0.5, 2, 0.25, 1.5}}}

// labelledFixture is netFixture for the labelled losses: class labels for
// the weighted cross-entropy, real targets for the Gaussian.
func labelledFixture(t testing.TB, sizes []int, acts []string, loss nn.Loss, n int, seed uint64) (*curvature.Model, []float64, curvature.Batch) {
	m, theta, b := netFixture(t, sizes, acts, loss, n, seed)
	if _, ok := loss.(nn.WeightedSoftmaxCrossEntropy); ok {
		rnd := newRand(seed + 1)
		for i := 0; i < n; i++ {
			b.Y.Set(i, 0, float64(rnd.IntN(sizes[len(sizes)-1])))
		}
	}
	return m, theta, b
}

// checkDense checks a's product with v, and its damped solve and
// log-determinant at each λ of lambdas, against those of dense, the matrix
// a stands for: the product and the solve to the relative tolerances mulTol
// and solveTol, the log-determinant to logTol.
func checkDense(t *testing.T, a interface {
	Approximation
	LogDet(lambda float64) (float64, error)
}, dense mat.Symmetric, v, lambdas []float64, mulTol, solveTol, logTol float64) {
	t.Helper()
	got := make([]float64, len(v))
	a.MulVecTo(got, v)
	assert.Less(t, relDiff(got, denseMulVec(dense, v)), mulTol)
	for _, lambda := range lambdas {
		require.NoError(t, a.SolveDampedTo(got, v, lambda))
		assert.Less(t, relDiff(got, denseSolve(t, dense, v, lambda)), solveTol, "λ = %v", lambda)
		ld, err := a.LogDet(lambda)
		require.NoError(t, err)
		assert.InDelta(t, denseLogDet(t, dense, lambda), ld, logTol, "λ = %v", lambda)
	}
}
