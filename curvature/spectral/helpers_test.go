package spectral

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/randmat"
)

// symFromEig returns Q diag(vals) Qᵀ for a random orthogonal Q.
func symFromEig(vals []float64, rnd *rand.Rand) *mat.SymDense {
	a, _ := randmat.SymFromEig(rnd, vals)
	return a
}

// randSym returns a symmetric n×n matrix with N(0, 1) entries.
func randSym(n int, rnd *rand.Rand) *mat.SymDense {
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, rnd.NormFloat64())
		}
	}
	return a
}

// denseEig returns the eigenvalues of a in ascending order, by
// mat.EigenSym: the reference every solver is compared with.
func denseEig(a mat.Symmetric) []float64 {
	var eig mat.EigenSym
	if !eig.Factorize(a, false) {
		panic("reference eigendecomposition failed")
	}
	return eig.Values(nil)
}

// wanted returns the k eigenvalues at one end, the wanted end first.
func wanted(vals []float64, k int, which Which) []float64 {
	out := make([]float64, k)
	for i := range out {
		if which == Largest {
			out[i] = vals[len(vals)-1-i]
		} else {
			out[i] = vals[i]
		}
	}
	return out
}

// byMagnitude returns the k eigenvalues of largest magnitude, largest
// first.
func byMagnitude(vals []float64, k int) []float64 {
	v := append([]float64(nil), vals...)
	sort.Slice(v, func(i, j int) bool { return math.Abs(v[i]) > math.Abs(v[j]) })
	return v[:k]
}

// counting counts the products of an operator.
type counting struct {
	op curvature.Operator
	n  int
}

func (c *counting) Dim() int { return c.op.Dim() }
func (c *counting) MulVecTo(dst, v []float64) {
	c.n++
	c.op.MulVecTo(dst, v)
}

// residual returns ‖Av − θv‖ for column i of vecs.
func residual(a mat.Symmetric, vecs *mat.Dense, i int, theta float64) float64 {
	n := a.SymmetricDim()
	v := mat.NewVecDense(n, mat.Col(nil, i, vecs))
	var r mat.VecDense
	r.MulVec(a, v)
	r.AddScaledVec(&r, -theta, v)
	return mat.Norm(&r, 2)
}

func maxAbs(vals []float64) float64 {
	m := 0.0
	for _, v := range vals {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

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

// progressLog records the reports of a curvature.Progress.
type progressLog struct{ done, total []int }

func (l *progressLog) report(done, total int) {
	l.done = append(l.done, done)
	l.total = append(l.total, total)
}

// check asserts that the reports count up by one step at a time (or jump
// to the end), share one total and end at it, and returns the steps
// reported before any final jump.
func (l *progressLog) check(t *testing.T, total int) int {
	t.Helper()
	require.NotEmpty(t, l.done)
	steps := 0
	for i, d := range l.done {
		assert.Equal(t, total, l.total[i])
		prev := 0
		if i > 0 {
			prev = l.done[i-1]
		}
		if d != prev+1 {
			assert.Equal(t, total, d, "report %d: %d after %d", i, d, prev)
			assert.Equal(t, len(l.done)-1, i, "a jump to the end is the last report")
			continue
		}
		steps++
	}
	assert.Equal(t, total, l.done[len(l.done)-1])
	return steps
}
