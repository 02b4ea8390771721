package spectral

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestFloatsBoundsAllocation checks each tool's Floats against the bytes
// it actually allocates on a 300-dimensional operator: the stated memory
// must account for at least the bulk (within a small fixed allowance for
// slices of length ≪ n and the Ritz bookkeeping).
func TestFloatsBoundsAllocation(t *testing.T) {
	const n = 300
	a := decaying(n, 1)(rand.New(rand.NewPCG(31, 1)))
	op := curvature.NewDense(a)
	// The dense product itself allocates nothing per call; the slack
	// covers small slices, EigenSym's workspace for the tridiagonal and
	// the result structs.
	for _, tc := range []struct {
		name   string
		floats int
		run    func() error
		slack  float64
	}{
		{"lanczos", (&Lanczos{K: 4, MaxSteps: 60}).Floats(n), func() error {
			_, err := (&Lanczos{K: 4, MaxSteps: 60, Tol: 1e-3}).Eigen(op)
			return err
		}, 0},
		{"power", (&Power{K: 2}).Floats(n), func() error {
			_, err := (&Power{K: 2, Tol: 1e-2}).Eigen(op)
			return err
		}, 0},
		{"hutchinson", (&Hutchinson{}).Floats(n), func() error {
			_, err := (&Hutchinson{}).Diagonal(make([]float64, n), op)
			return err
		}, n},
		{"hutch++", (&HutchPlusPlus{Products: 30}).Floats(n), func() error {
			_, err := (&HutchPlusPlus{Products: 30}).Trace(op)
			return err
		}, 0},
		{"xtrace", (&XTrace{Products: 40}).Floats(n), func() error {
			_, err := (&XTrace{Products: 40}).Trace(op)
			return err
		}, 0},
		{"xdiag", (&XTrace{Products: 40}).Floats(n), func() error {
			_, err := (&XTrace{Products: 40}).Diagonal(make([]float64, n), op)
			return err
		}, n},
		{"frobenius", (&Frobenius{}).Floats(n), func() error {
			_, err := (&Frobenius{}).Squared(op)
			return err
		}, 0},
		{"slq", (&SLQ{Steps: 40, Probes: 3}).Floats(n), func() error {
			_, err := (&SLQ{Steps: 40, Probes: 3}).Density(op)
			return err
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			got := allocated(func() { err = tc.run() })
			require.NoError(t, err)
			stated := 8 * (float64(tc.floats) + tc.slack)
			t.Logf("stated %d floats (%.0f KiB), allocated %.0f KiB", tc.floats, stated/1024, float64(got)/1024)
			assert.LessOrEqual(t, float64(got), 1.1*stated+16*1024, "allocation beyond the stated memory")
		})
	}
}
