package main

import (
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/approx"
)

// A tiny run writes the tidy table, the losses and the picture; the
// errors obey the orderings that hold by construction at every step.
func TestRunTiny(t *testing.T) {
	s := settings{Out: filepath.Join(t.TempDir(), "out"), Steps: 4, Every: 2, Seed: 3, Hidden: 3, Batch: 16, Eval: 24, LR: 0.01}
	var out strings.Builder
	require.NoError(t, run(s, &out))
	// The memory table, for P = 3·65 + 10·4 = 235 (hand counts): P² dense,
	// K-FAC 3² + 65² + 10² + 4².
	assert.Regexp(t, `dense P² \(each of 3 matrices\) +55225 +431\.4 KiB`, out.String())
	assert.Regexp(t, `kfac \(each of 2\) +4350 +34\.0 KiB`, out.String())
	// A second run into the same directory starts the table anew.
	require.NoError(t, run(s, io.Discard))

	f, err := os.Open(filepath.Join(s.Out, "errors.csv"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := approx.ReadRecords(f)
	require.NoError(t, err)
	frob := map[string]float64{}
	pairs := map[string]int{}
	steps := map[int]bool{}
	for _, r := range recs {
		steps[r.Step] = true
		key := fmt.Sprintf("%d/%s/%s", r.Step, r.Matrix, r.Approximation)
		pairs[key]++
		if r.Metric == approx.MetricRelFrobenius {
			frob[key] = r.Value
		}
		assert.False(t, math.IsNaN(r.Value) || math.IsInf(r.Value, 0), "%+v", r)
	}
	assert.Equal(t, map[int]bool{0: true, 2: true, 4: true}, steps)
	for _, step := range []int{0, 2, 4} {
		want := []string{
			"hessian/diagonal", "hessian/block_diagonal", "hessian/kronecker_optimal",
			"ggn/diagonal", "ggn/block_diagonal", "ggn/kronecker_optimal", "ggn/kfac", "ggn/ekfac",
			"empirical_fisher/diagonal", "empirical_fisher/block_diagonal", "empirical_fisher/kronecker_optimal",
			"empirical_fisher/kfac", "empirical_fisher/ekfac", "empirical_fisher/neuron_block_diagonal",
		}
		if step > 0 { // TONGA has seen gradients
			want = append(want, "empirical_fisher/tonga")
		}
		for _, w := range want {
			assert.Equal(t, 6, pairs[fmt.Sprintf("%d/%s", step, w)], "step %d %s: lambda, floats and 4 metrics", step, w)
		}
		f := func(p string) float64 { return frob[fmt.Sprintf("%d/%s", step, p)] }
		const tol = 1e-9
		for _, m := range []string{"ggn", "empirical_fisher", "hessian"} {
			// The exact blocks are the nearest block-structured matrix, and
			// nearest Kronecker blocks are among those.
			assert.LessOrEqual(t, f(m+"/block_diagonal"), f(m+"/kronecker_optimal")+tol, m)
			assert.LessOrEqual(t, f(m+"/block_diagonal"), f(m+"/diagonal")+tol, m)
		}
		for _, m := range []string{"ggn", "empirical_fisher"} {
			assert.LessOrEqual(t, f(m+"/ekfac"), f(m+"/kfac")+tol, "%s step %d", m, step)
			assert.LessOrEqual(t, f(m+"/kronecker_optimal"), f(m+"/kfac")+tol, "%s step %d", m, step)
		}
		ef := "empirical_fisher/"
		assert.LessOrEqual(t, f(ef+"block_diagonal"), f(ef+"neuron_block_diagonal")+tol)
		assert.LessOrEqual(t, f(ef+"neuron_block_diagonal"), f(ef+"diagonal")+tol)
	}
	assert.Len(t, pairs, 3*14+2)

	lf, err := os.Open(filepath.Join(s.Out, "loss.csv"))
	require.NoError(t, err)
	defer lf.Close()
	rows, err := csv.NewReader(lf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"step", "loss"}}, rows[:1])
	assert.Len(t, rows, 4)

	pf, err := os.Open(filepath.Join(s.Out, "errors.png"))
	require.NoError(t, err)
	defer pf.Close()
	img, err := png.Decode(pf)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 1000)
}

func TestRunBadSettings(t *testing.T) {
	for _, s := range []settings{
		{Out: "", Steps: 1, Every: 1, Hidden: 1, Batch: 1, Eval: 2, LR: 1},
		{Out: "x", Steps: 0, Every: 1, Hidden: 1, Batch: 1, Eval: 2, LR: 1},
		{Out: "x", Steps: 1, Every: 0, Hidden: 1, Batch: 1, Eval: 2, LR: 1},
		{Out: "x", Steps: 1, Every: 1, Hidden: 1, Batch: 1, Eval: 2, LR: math.NaN()},
		{Out: "x", Steps: 1, Every: 1, Hidden: 1, Batch: 1, Eval: 5000, LR: 1},
	} {
		assert.Error(t, run(s, io.Discard), "%+v", s)
	}
}
