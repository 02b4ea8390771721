package approx

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/randmat"
)

// Each approximation's Floats against a hand count.
func TestFloats(t *testing.T) {
	rnd := newRand(71)
	shapes := []KronShape{{G: 3, A: 5}, {G: 2, A: 4}} // 15 + 8 = 23 parameters
	const P = 23
	M := randSPD(rnd, P, 0.5)
	scattered := [][]int{{0, 5, 9}, {1, 2, 3, 4}, {6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}}
	for _, c := range []struct {
		name  string
		want  int // counted by hand
		build func(t *testing.T) interface{ Floats() int }
	}{
		{"diagonal", 23, func(t *testing.T) interface{ Floats() int } {
			d, err := DiagonalOf(M, 0)
			require.NoError(t, err)
			return d
		}},
		{"block_diagonal/layers", 15*15 + 8*8, func(t *testing.T) interface{ Floats() int } {
			bd, err := BlockDiagonalOf(M, Ranges(15, 8), 0)
			require.NoError(t, err)
			return bd
		}},
		{"block_diagonal/scattered", 9 + 16 + 16*16, func(t *testing.T) interface{ Floats() int } {
			bd, err := BlockDiagonalOf(M, scattered, 0)
			require.NoError(t, err)
			return bd
		}},
		{"kfac", 9 + 25 + 4 + 16, func(t *testing.T) interface{ Floats() int } {
			return randKFAC(t, 1, shapes, nil)
		}},
		{"ekfac", 9 + 25 + 15 + 4 + 16 + 8, func(t *testing.T) interface{ Floats() int } {
			ek, err := EKFACOf(randKFAC(t, 2, shapes, nil), M)
			require.NoError(t, err)
			return ek
		}},
		{"kronecker_optimal", 54, func(t *testing.T) interface{ Floats() int } {
			nk, err := NearestKroneckerOf(M, shapes, nil)
			require.NoError(t, err)
			return nk
		}},
		{"low_rank", 9*3 + 9, func(t *testing.T) interface{ Floats() int } {
			lr, err := NewLowRank(randDense(rnd, 9, 3), randmat.Vec(rnd, 9), 0)
			require.NoError(t, err)
			return lr
		}},
		{"dense", 23 * 23, func(t *testing.T) interface{ Floats() int } {
			s, err := NewSymMatrix(M, 0)
			require.NoError(t, err)
			return s
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, c.build(t).Floats())
		})
	}
}

// TONGA's estimator memory is the figure NewTONGA checks; the estimate it
// holds is a low rank per block, n·c + n floats for c columns in use,
// never more than the estimator.
func TestTONGAFloats(t *testing.T) {
	index := Ranges(4, 4, 4, 3) // n = 15, 4 blocks
	for _, c := range []struct {
		name string
		set  *TONGASettings
		want int // counted by hand
		k    int // rank after a compression
	}{
		{"defaults", nil, 15*10 + 4*100 + 4*15, 5},
		{"rank 2 refresh 3", &TONGASettings{Rank: 2, Refresh: 3}, 15*5 + 4*25 + 4*15, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			def, err := tongaSettings(c.set)
			require.NoError(t, err)
			got := def.floats(index)
			assert.Equal(t, c.want, got)
			var set TONGASettings
			if c.set != nil {
				set = *c.set
			}
			set.Budget = got
			tg, err := NewTONGA(index, &set)
			require.NoError(t, err)
			assert.Equal(t, 15, tg.Floats(), "empty estimate")
			rnd := newRand(5)
			for i := 0; i < 23; i++ {
				require.NoError(t, tg.Add(randmat.Vec(rnd, 15)))
				assert.LessOrEqual(t, tg.Floats(), got)
			}
			require.NoError(t, tg.Compress())
			assert.Equal(t, 15*c.k+15, tg.Floats(), "after a compression")

			set.Budget = got - 1
			_, err = NewTONGA(index, &set)
			assertBudgetError(t, err, got)
		})
	}
}

func TestMemorySettingsErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func() error
		want string
	}{
		{"tonga rank", func() error { _, err := NewTONGA(Ranges(3), &TONGASettings{Rank: -1}); return err }, "rank -1"},
		{"tonga refresh", func() error { _, err := NewTONGA(Ranges(3), &TONGASettings{Refresh: -2}); return err }, "refresh -2"},
		{"model nil", func() error { _, err := ModelMemory(nil, PerLayer, nil); return err }, "without a network"},
		{"model partition", func() error {
			net, err := nn.NewMLP([]int{2, 3}, []string{"identity"})
			require.NoError(t, err)
			_, err = ModelMemory(&curvature.Model{Net: net, Loss: nn.MSE{}}, Partition(7), nil)
			return err
		}, "unknown partition"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.f()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// assertBudgetError checks that err is a *curvature.BudgetError naming
// floats, over a budget one float short.
func assertBudgetError(t *testing.T, err error, floats int) {
	t.Helper()
	var be *curvature.BudgetError
	require.True(t, errors.As(err, &be), "want a *curvature.BudgetError, got %v", err)
	assert.Equal(t, floats, be.Floats)
	assert.Equal(t, floats-1, be.Budget)
	assert.Contains(t, err.Error(), strconv.Itoa(floats))
}

// ModelMemory's figures against hand counts for a 3-4-2 network, and the
// model constructors' budgets: each builds with the estimate as its
// budget (the result's Floats equal to it) and refuses, naming the
// estimate, one float short.
func TestModelMemoryBudgets(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 7, 73)
	// Layers: 4×(3+1) = 16 and 2×(4+1) = 10 parameters.
	const P = 26
	ts := &TONGASettings{Rank: 2, Refresh: 2, Discount: 1}
	mem, err := ModelMemory(m, PerNeuron, ts)
	require.NoError(t, err)
	assert.Equal(t, Memory{
		Params:       P,
		Dense:        P * P,
		Diagonal:     P,
		LayerBlocks:  16*16 + 10*10,
		NeuronBlocks: 4*4*4 + 2*5*5,
		LargestLayer: 16 * 16,
		KFAC:         4*4 + 4*4 + 2*2 + 5*5,
		EKFAC:        4*4 + 4*4 + 4*4 + 2*2 + 5*5 + 2*5,
		TONGA:        P*4 + 6*4*4 + 4*P, // 6 neuron blocks of k+b = 4 columns
	}, mem)

	for _, c := range []struct {
		name   string
		floats int
		// build builds with the budget and returns the result's Floats,
		// or -1 when the budget bounds more than the result.
		build func(budget int) (int, error)
	}{
		{"dense", mem.Dense, func(budget int) (int, error) {
			M, err := m.Dense(curvature.GGN, theta, b, &curvature.Options{Budget: budget})
			if err != nil {
				return 0, err
			}
			r, _ := M.Dims()
			return r * r, nil
		}},
		{"diagonal", mem.Diagonal, func(budget int) (int, error) {
			d, err := ModelDiagonal(m, curvature.GGN, theta, b, &curvature.Options{Budget: budget})
			if err != nil {
				return 0, err
			}
			return d.Floats(), nil
		}},
		{"layer blocks", mem.LayerBlocks, func(budget int) (int, error) {
			bd, err := ModelBlockDiagonal(m, curvature.GGN, PerLayer, theta, b, &curvature.Options{Budget: budget})
			if err != nil {
				return 0, err
			}
			return bd.Floats(), nil
		}},
		// The layer blocks cut into neurons are larger than the result
		// here, and the budget bounds them too.
		{"neuron blocks", max(mem.NeuronBlocks, mem.LargestLayer), func(budget int) (int, error) {
			bd, err := ModelBlockDiagonal(m, curvature.EmpiricalFisher, PerNeuron, theta, b, &curvature.Options{Budget: budget})
			if err != nil {
				return 0, err
			}
			assert.Equal(t, mem.NeuronBlocks, bd.Floats())
			return -1, nil
		}},
		{"kfac", mem.KFAC, func(budget int) (int, error) {
			k, err := ModelKFAC(m, theta, b, &KFACSettings{Budget: budget})
			if err != nil {
				return 0, err
			}
			return k.Floats(), nil
		}},
		{"ekfac", mem.EKFAC, func(budget int) (int, error) {
			ek, err := ModelEKFAC(m, theta, b, &KFACSettings{Budget: budget})
			if err != nil {
				return 0, err
			}
			return ek.Floats(), nil
		}},
		{"kronecker_optimal", mem.KFAC, func(budget int) (int, error) {
			nk, err := ModelNearestKronecker(m, curvature.GGN, theta, b, nil, &NearestKronSettings{Kron: KronSettings{Budget: budget}})
			if err != nil {
				return 0, err
			}
			return nk.Floats(), nil
		}},
		{"tonga", mem.TONGA, func(budget int) (int, error) {
			s := *ts
			s.Budget = budget
			_, err := ModelTONGA(m, theta, b, PerNeuron, &s)
			return -1, err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.build(c.floats)
			require.NoError(t, err)
			if got >= 0 {
				assert.Equal(t, c.floats, got)
			}
			_, err = c.build(c.floats - 1)
			assertBudgetError(t, err, c.floats)
		})
	}
}

// A memory table from shapes alone, before anything is built.
func ExampleModelMemory() {
	net, err := nn.NewMLP([]int{64, 16, 10}, []string{"tanh", "identity"})
	if err != nil {
		panic(err)
	}
	mem, err := ModelMemory(&curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, PerNeuron, nil)
	if err != nil {
		panic(err)
	}
	for _, r := range []struct {
		name   string
		floats int
	}{
		{"dense", mem.Dense}, {"diagonal", mem.Diagonal}, {"layer blocks", mem.LayerBlocks},
		{"neuron blocks", mem.NeuronBlocks}, {"kfac", mem.KFAC}, {"ekfac", mem.EKFAC}, {"tonga", mem.TONGA},
	} {
		fmt.Printf("%-13s %8d floats %8.1f KiB\n", r.name, r.floats, 8*float64(r.floats)/1024)
	}
	// Output:
	// dense          1464100 floats  11438.3 KiB
	// diagonal          1210 floats      9.5 KiB
	// layer blocks   1110500 floats   8675.8 KiB
	// neuron blocks    70490 floats    550.7 KiB
	// kfac              4870 floats     38.0 KiB
	// ekfac             6080 floats     47.5 KiB
	// tonga            19540 floats    152.7 KiB
}
