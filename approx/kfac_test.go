package approx

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
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

func shifted(m *mat.SymDense, s float64) *mat.SymDense {
	d := mat.NewSymDense(m.SymmetricDim(), nil)
	d.CopySym(m)
	for i := 0; i < d.SymmetricDim(); i++ {
		d.SetSym(i, i, d.At(i, i)+s)
	}
	return d
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

				v := randVec(rnd, n)
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
						fd := denseKron(shifted(g, r/pi), shifted(a, pi*r))
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
		v := randVec(rnd, n)
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
				fd := denseKron(shifted(kr.g, sg), shifted(kr.a, sa))
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
