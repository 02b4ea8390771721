package inverse_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/inverse"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/randmat"
)

// randRect returns an m×n matrix U diag(σ) Vᵀ with singular values σ
// spaced geometrically from 1 down to 1/cond.
func randRect(rnd *rand.Rand, m, n int, cond float64) *mat.Dense {
	k := min(m, n)
	u := randmat.Orthogonal(rnd, m)
	v := randmat.Orthogonal(rnd, n)
	a := mat.NewDense(m, n, nil)
	for i := 0; i < k; i++ {
		s := math.Pow(cond, -float64(i)/float64(max(k-1, 1)))
		for r := 0; r < m; r++ {
			for c := 0; c < n; c++ {
				a.Set(r, c, a.At(r, c)+s*u.At(r, i)*v.At(c, i))
			}
		}
	}
	return a
}

// normalSolve returns (JᵀJ + λI)⁻¹Jᵀb, from the normal equations solved
// densely: the reference for LSMR.
func normalSolve(t *testing.T, j *mat.Dense, lambda float64, b []float64) []float64 {
	_, n := j.Dims()
	var g mat.SymDense
	g.SymOuterK(1, j.T())
	var jtb mat.VecDense
	jtb.MulVec(j.T(), mat.NewVecDense(len(b), b))
	return cholSolve(t, &g, lambda, jtb.RawVector().Data[:n])
}

// TestLSMRLeastSquares: LSMR's minimiser of ‖Jx − b‖² + λ‖x‖² against the
// normal equations solved densely; for an underdetermined J without
// damping, against the minimum-norm solution Jᵀ(JJᵀ)⁻¹b, which LSMR
// reaches from x = 0 because its iterates stay in the range of Jᵀ.
func TestLSMRLeastSquares(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 1))
	for _, tc := range []struct {
		name   string
		m, n   int
		cond   float64
		lambda float64
	}{
		{"overdetermined", 80, 30, 1e3, 0},
		{"overdetermined-damped", 80, 30, 1e3, 1e-3},
		{"square-damped", 40, 40, 1e4, 1e-2},
		{"underdetermined-damped", 20, 50, 1e2, 0.1},
		{"underdetermined-min-norm", 20, 50, 1e2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := randRect(rnd, tc.m, tc.n, tc.cond)
			b := randmat.Vec(rnd, tc.m)
			var want []float64
			if tc.m < tc.n && tc.lambda == 0 {
				var jjt mat.SymDense
				jjt.SymOuterK(1, j)
				y := cholSolve(t, &jjt, 0, b)
				var x mat.VecDense
				x.MulVec(j.T(), mat.NewVecDense(tc.m, y))
				want = x.RawVector().Data
			} else {
				want = normalSolve(t, j, tc.lambda, b)
			}
			l := &inverse.LSMR{J: inverse.Matrix{Matrix: j}, Damping: tc.lambda, Tol: 1e-13, MaxIterations: 20 * tc.n}
			x := make([]float64, tc.n)
			require.NoError(t, l.LeastSquaresTo(x, b))
			// Normal-equation residual 1e-13 and cond(JᵀJ + λI) ≤ 1e8 bound
			// the error by about 1e-5; it is far smaller in practice.
			assert.Less(t, relErr(x, want), 1e-7)
			st := l.Stats()
			assert.LessOrEqual(t, st.Residual, 1e-13)
			assert.Equal(t, 2*st.Iterations+1, st.Products)
		})
	}
}

// TestLSMRInverse: as an operator, LSMR applies (JᵀJ + λI)⁻¹, checked
// against a dense Cholesky solve.
func TestLSMRInverse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 1))
	for _, dims := range [][2]int{{50, 20}, {10, 30}} {
		j := randRect(rnd, dims[0], dims[1], 1e2)
		var g mat.SymDense
		g.SymOuterK(1, j.T())
		v := randmat.Vec(rnd, dims[1])
		const lambda = 1e-2
		want := cholSolve(t, &g, lambda, v)
		l := &inverse.LSMR{J: inverse.Matrix{Matrix: j}, Damping: lambda, Tol: 1e-13, MaxIterations: 500}
		x := make([]float64, dims[1])
		require.NoError(t, l.SolveTo(x, v))
		assert.Less(t, relErr(x, want), 1e-8, "%v", dims)
		y := make([]float64, dims[1])
		l.MulVecTo(y, v)
		assert.Equal(t, x, y)
	}
	// The operator needs λ > 0.
	l := &inverse.LSMR{J: inverse.Matrix{Matrix: randRect(rnd, 5, 3, 10)}}
	assert.Error(t, l.SolveTo(make([]float64, 3), []float64{1, 2, 3}))
	assert.Panics(t, func() { l.MulVecTo(make([]float64, 3), []float64{1, 2, 3}) })
	l.Damping, l.MaxIterations = 1e-8, 1
	err := l.LeastSquaresTo(make([]float64, 3), randmat.Vec(rnd, 5))
	assert.ErrorIs(t, err, inverse.ErrNotConverged)
	assert.Error(t, l.LeastSquaresTo(make([]float64, 3), []float64{1, math.Inf(1), 0, 0, 0}))
}

// jacobian is the stacked Jacobian J/√N of a network's outputs on a batch,
// (N·C)×P, from the tape's Jacobian products: for the MSE loss, whose
// output Hessian is I, the GGN is (1/N) Σ J_iᵀJ_i = (J/√N)ᵀ(J/√N).
type jacobian struct {
	tape    *nn.Tape
	n, c, p int
	z       *mat.Dense
}

func (j *jacobian) Dims() (int, int) { return j.n * j.c, j.p }

func (j *jacobian) MulVecTo(dst, v []float64) {
	j.tape.JVP(j.z, v)
	for i := range dst {
		dst[i] = j.z.RawMatrix().Data[i] / math.Sqrt(float64(j.n))
	}
}

func (j *jacobian) MulTransVecTo(dst, u []float64) {
	for i, x := range u {
		j.z.RawMatrix().Data[i] = x / math.Sqrt(float64(j.n))
	}
	j.tape.VJP(dst, j.z)
}

// TestLSMRGGN: with the GGN's square root, LSMR applies (G + λI)⁻¹ for
// the GGN of curvature.Model.Dense, without forming G.
func TestLSMRGGN(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 1))
	net, err := nn.NewMLP([]int{3, 5, 2}, []string{"tanh", "identity"})
	require.NoError(t, err)
	m := &curvature.Model{Net: net, Loss: nn.MSE{}}
	p := net.NumParams()
	theta := make([]float64, p)
	net.Init(theta, rnd)
	const n = 12
	x, y := mat.NewDense(n, 3, nil), mat.NewDense(n, 2, nil)
	for i := 0; i < n; i++ {
		for k := 0; k < 3; k++ {
			x.Set(i, k, rnd.NormFloat64())
		}
		for k := 0; k < 2; k++ {
			y.Set(i, k, rnd.NormFloat64())
		}
	}
	g, err := m.Dense(curvature.GGN, theta, curvature.Batch{X: x, Y: y}, nil)
	require.NoError(t, err)
	tape := nn.NewTape(net, m.Loss)
	tape.Forward(theta, x)
	j := &jacobian{tape: tape, n: n, c: 2, p: p, z: mat.NewDense(n, 2, nil)}
	v := randmat.Vec(rnd, p)
	const lambda = 1e-2
	want := cholSolve(t, g, lambda, v)
	l := &inverse.LSMR{J: j, Damping: lambda, Tol: 1e-12, MaxIterations: 1000}
	got := make([]float64, p)
	require.NoError(t, l.SolveTo(got, v))
	assert.Less(t, relErr(got, want), 1e-8)
	// CG on the matrix-free GGN gives the same vector.
	op, err := m.Operator(curvature.GGN, theta, curvature.Batch{X: x, Y: y}, nil)
	require.NoError(t, err)
	cg := make([]float64, p)
	require.NoError(t, (&inverse.CG{Op: op, Damping: lambda, Tol: 1e-12, MaxIterations: 1000}).SolveTo(cg, v))
	assert.Less(t, relErr(cg, want), 1e-8)
}
