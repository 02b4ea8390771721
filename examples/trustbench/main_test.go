package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSmallSubset runs the program on three small instances: it prints a
// line per instance with every method's count and SciPy's beside it, and
// the summary lines.
func TestSmallSubset(t *testing.T) {
	var stdout, stderr strings.Builder
	code := cli([]string{"-only", "^(Beale|HelicalValley|Wood)$", "-detail"}, &stdout, &stderr)
	assert.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	for _, want := range []string{"trust-exact", "trust-ncg", "dogleg", "trust-krylov", "Beale", "HelicalValley", "Wood", "total where both converged", "not converged"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "Gulf", "only the instances asked for")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 2+1+3+3, "title, blank, header, three instances, three summaries")
	// Wood with the exact solver: 44 evaluations, 38 gradients and Hessians,
	// as SciPy's trust-exact (44/38/44: SciPy evaluates the Hessian at
	// every trial point).
	for _, l := range lines {
		if strings.Contains(l, "Wood") {
			assert.Contains(t, l, " 44/38/38 ")
			assert.Contains(t, l, " 44/38/44 ")
		}
	}
}

// Bad arguments are usage errors, not ignored.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-only", "("}, {"-maxiter", "0"}, {"-nosuchflag"}, {"-only", "NoSuchFunction"}} {
		var stdout, stderr strings.Builder
		assert.Equal(t, 2, cli(args, &stdout, &stderr), "%q", args)
		assert.NotEmpty(t, stderr.String(), "%q", args)
		assert.Empty(t, stdout.String(), "%q: nothing printed", args)
	}
	var stderr strings.Builder
	cli([]string{"extra"}, io.Discard, &stderr)
	assert.Contains(t, stderr.String(), `trustbench: unexpected arguments ["extra"]`)
}
