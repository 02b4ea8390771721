package main

import (
	"bytes"
	"encoding/csv"
	"errors"
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
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/internal/killtest"
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
	recs, err := data.ReadRecords(f)
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
			assert.Equal(t, 5, pairs[fmt.Sprintf("%d/%s", step, w)], "step %d %s: floats and 4 metrics", step, w)
		}
		for _, m := range []string{"hessian", "ggn", "empirical_fisher"} {
			assert.Equal(t, 1, pairs[fmt.Sprintf("%d/%s/exact", step, m)], "step %d %s: λ once", step, m)
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
	assert.Len(t, pairs, 3*(14+3)+2) // 14 approximations and 3 exact matrices a step, TONGA twice

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

// killVariants are the runs of the kill loop, told apart by their seeds.
var killVariants = map[string]settings{
	"3": {Steps: 2, Every: 1, Seed: 3, Hidden: 2, Batch: 16, Eval: 24, LR: 0.01},
	"4": {Steps: 2, Every: 1, Seed: 4, Hidden: 2, Batch: 16, Eval: 24, LR: 0.01},
}

// runVariant runs a kill-loop variant into dir.
func runVariant(dir, v string) error {
	s := killVariants[v]
	s.Out = dir
	return run(s, io.Discard)
}

func TestMain(m *testing.M) {
	killtest.Helper(runVariant)
	os.Exit(m.Run())
}

// TestKillLoop kills runs of two settings at random moments into one
// directory. What is there is always files of one run: errors.csv the
// table after a whole number of that run's evaluations, loss.csv and
// errors.png the bytes of a complete run, and the table complete when
// either of them is there. A run that completes leaves no temporary file.
func TestKillLoop(t *testing.T) {
	names := []string{"3", "4"}
	refs := killtest.References(t, names, runVariant)
	want := make([]map[string][][]byte, len(names))
	full := make([][]byte, len(names))
	for i, ref := range refs {
		require.Len(t, ref, len(outputs))
		want[i] = killtest.Exact(ref)
		full[i] = ref["errors.csv"]
		recs, err := data.ReadRecords(bytes.NewReader(full[i]))
		require.NoError(t, err)
		// The table after each evaluation: the records up to its step.
		var tables [][]byte
		for k, r := range recs {
			if k+1 == len(recs) || recs[k+1].Step != r.Step {
				var b bytes.Buffer
				require.NoError(t, data.WriteRecords(&b, recs[:k+1]))
				tables = append(tables, b.Bytes())
			}
		}
		require.Len(t, tables, 3, "evaluations at steps 0, 1, 2")
		require.Equal(t, full[i], tables[2])
		want[i]["errors.csv"] = tables
	}
	require.NotEqual(t, want[0]["loss.csv"], want[1]["loss.csv"], "the variants must differ")
	const runs = 10
	completed := killtest.Loop{
		Dir: t.TempDir(), Variants: names, Runs: runs, Seed: 2, Outputs: outputs,
		Check: killtest.CheckFiles(want, func(v int, files map[string][]byte) error {
			table, ok := files["errors.csv"]
			_, loss := files["loss.csv"]
			_, png := files["errors.png"]
			if ok && (loss || png) && !bytes.Equal(table, full[v]) {
				return errors.New("loss.csv or errors.png beside an incomplete table")
			}
			return nil
		}),
	}.Run(t)
	t.Logf("%d of %d runs completed", completed, runs)
}
