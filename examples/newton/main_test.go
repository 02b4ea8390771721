package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/secondorder"
)

// TestCompare runs the table on the 2-D start: every second-order method
// converges, and the exact trust region needs, to ‖∇f‖∞ < 1e-8, the 26
// function evaluations SciPy 1.10.1's trust-exact needs from (−1.2, 1) to
// its ‖∇f‖₂ < 1e-8 (the last step takes both norms from above 2e-4 to
// below 1e-8).
func TestCompare(t *testing.T) {
	rows, err := compare([]float64{-1.2, 1}, 20000)
	require.NoError(t, err)
	for _, r := range rows {
		if strings.Contains(r.method, "gradient descent") || strings.Contains(r.method, "Cauchy") {
			continue
		}
		assert.True(t, r.converged, r.method)
		assert.Less(t, r.gradNorm, gradTol, r.method)
		if strings.Contains(r.method, "exact") {
			assert.Equal(t, 26, r.fun, r.method)
		}
	}
	var b strings.Builder
	printTable(&b, rows)
	assert.Contains(t, b.String(), "trust region, Steihaug–Toint CG")
}

// TestExact5D: from SciPy's 5-D start the exact trust region needs at most
// the 14 evaluations of SciPy 1.10.1's trust-exact with its default
// tolerances, and the 16 of trust-exact patched to tolerances
// 1e-10 with tight ones.
func TestExact5D(t *testing.T) {
	x0 := []float64{1.3, 0.7, 0.8, 1.9, 1.2}
	for _, tc := range []struct {
		name string
		e    *secondorder.Exact
		want int
	}{
		{"default-tolerances", &secondorder.Exact{}, 14},
		{"tight", &secondorder.Exact{EasyTol: 1e-10, HardTol: 1e-10}, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := runOurs(tc.name, &secondorder.TrustRegion{Solver: tc.e}, x0, 100)
			require.NoError(t, err)
			assert.True(t, r.converged)
			assert.LessOrEqual(t, r.fun, tc.want)
		})
	}
}

// Stray arguments are a usage error, not ignored; so is an unknown flag.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-maxiter", "10", "extra"}, {"-nosuchflag"}} {
		var stdout, stderr strings.Builder
		assert.Equal(t, 2, cli(args, &stdout, &stderr), "%q", args)
		assert.Contains(t, stderr.String(), "Usage of newton", "%q", args)
		assert.Empty(t, stdout.String(), "%q: nothing run", args)
	}
	var stderr strings.Builder
	cli([]string{"extra"}, io.Discard, &stderr)
	assert.Contains(t, stderr.String(), `newton: unexpected arguments ["extra"]`)
}
