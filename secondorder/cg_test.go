package secondorder

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/randmat"
)

// rowOp multiplies by a dense symmetric matrix row by row, allocating
// nothing, so that the solvers' own allocations can be counted.
type rowOp struct{ a *mat.SymDense }

func (o rowOp) Dim() int { return o.a.SymmetricDim() }
func (o rowOp) MulVecTo(dst, v []float64) {
	raw := o.a.RawSymmetric()
	for i := range dst {
		s := 0.0
		for j := range v {
			if i <= j {
				s += raw.Data[i*raw.Stride+j] * v[j]
			} else {
				s += raw.Data[j*raw.Stride+i] * v[j]
			}
		}
		dst[i] = s
	}
}

// The CG iterations keep their vectors from call to call: once warmed up,
// a linear solve and a Steihaug–Toint solve, preconditioned or not,
// allocate nothing.
func TestCGAllocations(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 1))
	vals := make([]float64, 30)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	a, _ := randmat.SymFromEig(rnd, vals)
	op := rowOp{a}
	g := randVec(30, rnd)
	pre := mustDiagonal(t, vals...)
	x := make([]float64, 30)
	for _, c := range []struct {
		name string
		// solver returns a solve on one value, reused as a caller reuses
		// a solver.
		solver func() func() error
	}{
		{"linear-cg", func() func() error {
			s := &OperatorSolver{Op: op, Linear: Linear{Method: CGLinear}}
			return func() error { return s.SolveDampedTo(x, g, 0.1) }
		}},
		{"linear-pcg", func() func() error {
			s := &OperatorSolver{Op: op, Linear: Linear{Method: CGLinear, Preconditioner: pre}}
			return func() error { return s.SolveDampedTo(x, g, 0.1) }
		}},
		{"steihaug", func() func() error {
			s := &Steihaug{Tol: 1e-10}
			return func() error { _, err := s.Solve(x, op, g, 100); return err }
		}},
		{"steihaug-preconditioned", func() func() error {
			s := &Steihaug{Tol: 1e-10, Preconditioner: pre, PreconditionerDamping: 0.1}
			return func() error { _, err := s.Solve(x, op, g, 100); return err }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			solve := c.solver()
			require.NoError(t, solve())
			assert.Greater(t, floats.Norm(x, 2), 0.0)
			assert.Zero(t, testing.AllocsPerRun(10, func() { _ = solve() }))
		})
	}
}

// A preconditioner of the wrong dimension is a programming error: every
// CG solver panics with a package-prefixed message before iterating.
func TestCGPreconditionerDimension(t *testing.T) {
	a := mat.NewSymDense(3, []float64{2, 0, 0, 0, 3, 0, 0, 0, 4})
	pre := mustDiagonal(t, 1, 2)
	g := []float64{1, 1, 1}
	x := make([]float64, 3)
	want := "secondorder: preconditioner dimension 2, operator dimension 3"
	assert.PanicsWithValue(t, want, func() {
		_, _ = (&Steihaug{Preconditioner: pre}).Solve(x, rowOp{a}, g, 1)
	})
	assert.PanicsWithValue(t, want, func() {
		s := &OperatorSolver{Op: rowOp{a}, Linear: Linear{Method: CGLinear, Preconditioner: pre}}
		_ = s.SolveDampedTo(x, g, 0.1)
	})
}
