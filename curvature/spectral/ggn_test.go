package spectral

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// digitsGGN returns a digits classifier with the given layer sizes at a
// seeded random θ, and a batch of the first n digits.
func digitsGGN(tb testing.TB, sizes []int, n int) (*curvature.Model, []float64, curvature.Batch) {
	tb.Helper()
	set, err := data.Digits()
	require.NoError(tb, err)
	acts := make([]string, len(sizes)-1)
	for i := range acts {
		acts[i] = "tanh"
	}
	acts[len(acts)-1] = "identity"
	net, err := nn.NewMLP(sizes, acts)
	require.NoError(tb, err)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(1, 1)))
	b := curvature.Batch{
		X: set.X.Slice(0, n, 0, set.X.RawMatrix().Cols).(*mat.Dense),
		Y: set.Y.Slice(0, n, 0, 1).(*mat.Dense),
	}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, b
}

// TestLanczosNetworkGGN runs Lanczos on the matrix-free GGN of a real
// network (64-6-10 on 100 digits, 460 parameters) and compares with the
// eigendecomposition of the dense GGN the curvature package assembles
// independently.
func TestLanczosNetworkGGN(t *testing.T) {
	m, theta, b := digitsGGN(t, []int{64, 6, 10}, 100)
	op, err := m.Operator(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	dense, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	vals := denseEig(dense)
	top := vals[len(vals)-1]

	res, err := (&Lanczos{K: 5, Tol: 1e-10, Seed: 2}).Eigen(op)
	require.NoError(t, err)
	for i, want := range wanted(vals, 5, Largest) {
		assert.InDelta(t, want, res.Values[i], 1e-8*top, "eigenvalue %d", i)
		assert.InDelta(t, residual(dense, res.Vectors, i, res.Values[i]), res.Residuals[i], 1e-10*top)
	}
	t.Logf("top-5 GGN eigenvalues %.6g in %d products (P = %d); bottom %.3g", res.Values, res.Products, op.Dim(), vals[:3])

	// The GGN is positive semidefinite and here singular: its bottom
	// eigenvalues are 0 to rounding (about 1e-16 in the dense solve).
	bot, err := (&Lanczos{K: 2, Which: Smallest, Tol: 1e-6, MaxSteps: 460, Seed: 3}).Eigen(op)
	require.NoError(t, err)
	for i, want := range wanted(vals, 2, Smallest) {
		assert.InDelta(t, want, bot.Values[i], 1e-9*top, "bottom eigenvalue %d", i)
	}
}

// TestHutchinsonNetworkDiagonal: Hutchinson's diagonal from the
// matrix-free Hessian, GGN and empirical Fisher of a network is unbiased
// with Var d̂_i = Σ_{j≠i} M_ij²/m (Bekas et al. 2007): every coordinate lies
// within 5 standard deviations of the diagonal of the dense matrix, which
// package curvature assembles independently, and the estimate is not the
// exact diagonal (it is a real estimate).
func TestHutchinsonNetworkDiagonal(t *testing.T) {
	mod, theta, b := digitsGGN(t, []int{64, 3, 10}, 20)
	const m = 400
	for _, kind := range []curvature.Kind{curvature.Hessian, curvature.GGN, curvature.EmpiricalFisher} {
		t.Run(kind.String(), func(t *testing.T) {
			op, err := mod.Operator(kind, theta, b, nil)
			require.NoError(t, err)
			d := make([]float64, op.Dim())
			_, err = (&Hutchinson{Products: m, Seed: 13}).Diagonal(d, op)
			require.NoError(t, err)
			dense, err := mod.Dense(kind, theta, b, nil)
			require.NoError(t, err)
			n := dense.SymmetricDim()
			exact := true
			for i := 0; i < n; i++ {
				var v float64
				for j := 0; j < n; j++ {
					if j != i {
						v += dense.At(i, j) * dense.At(i, j)
					}
				}
				assert.InDelta(t, dense.At(i, i), d[i], 5*math.Sqrt(v/m)+1e-12, "coordinate %d", i)
				if math.Abs(d[i]-dense.At(i, i)) > 1e-9*(1+math.Abs(dense.At(i, i))) {
					exact = false
				}
			}
			assert.False(t, exact)
		})
	}
}
