package approx

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/internal/randmat"
)

// TestConcurrentUse calls products and solves of approximations with
// caches and work space from several goroutines at once (run with -race)
// and compares with the serial results.
func TestConcurrentUse(t *testing.T) {
	rnd := newRand(71)
	k := randKFAC(t, 72, LayerShapes(3, 4, 2), &KFACSettings{Damping: FactoredDamping, Solver: CholeskySolver})
	n := k.Dim()
	m := randSPD(rnd, n, 0.1)
	bd, err := BlockDiagonalOf(m, [][]int{{0, 5, 9}, {1, 2, 3, 4}, {6, 7, 8}, rangeFrom(10, n)}, 0)
	require.NoError(t, err)
	lr, err := NewLowRank(randDense(rnd, n, 3), nil, 0)
	require.NoError(t, err)
	for _, a := range []Approximation{k, bd, lr} {
		v := randmat.Vec(rnd, n)
		wantMul, wantSolve := make([]float64, n), make([]float64, n)
		a.MulVecTo(wantMul, v)
		require.NoError(t, a.SolveDampedTo(wantSolve, v, 0.3))
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mul, sol := make([]float64, n), make([]float64, n)
				for it := 0; it < 20; it++ {
					lambda := 0.3
					if it%3 == 0 {
						lambda = 0.5 // force re-factorisation under contention
					}
					a.MulVecTo(mul, v)
					if err := a.SolveDampedTo(sol, v, lambda); err != nil {
						t.Error(err)
						return
					}
					if lambda == 0.3 {
						assert.Equal(t, wantSolve, sol)
					}
					assert.Equal(t, wantMul, mul)
				}
			}()
		}
		wg.Wait()
	}
}

func rangeFrom(lo, hi int) []int {
	r := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		r = append(r, i)
	}
	return r
}
