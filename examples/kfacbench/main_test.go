package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A short run of each task writes the table, runs.csv with a row per
// evaluation of each optimizer, and both plots; the numbers in runs.csv
// are the ones the table prints.
func TestRun(t *testing.T) {
	for _, task := range []string{"autoencode", "classify"} {
		t.Run(task, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			err := run([]string{"-task", task, "-steps", "40", "-eval-every", "10", "-train", "300",
				"-adam-lrs", "0.003,0.01", "-sgd-lrs", "0.03", "-out", dir}, &stdout, &stderr)
			require.NoError(t, err, stderr.String())
			out := stdout.String()
			assert.Contains(t, out, "target training loss")
			assert.Contains(t, out, "steps to target")
			for _, f := range []string{"runs.csv", "loss_steps.png", "loss_seconds.png"} {
				st, err := os.Stat(filepath.Join(dir, f))
				require.NoError(t, err)
				assert.Positive(t, st.Size())
			}
			f, err := os.Open(filepath.Join(dir, "runs.csv"))
			require.NoError(t, err)
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			require.NoError(t, err)
			assert.Equal(t, []string{"optimizer", "step", "wall_seconds", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "learning_rate", "damping"}, rows[0])
			seen := map[string]int{}
			for _, r := range rows[1:] {
				seen[r[0]]++
				loss, err := strconv.ParseFloat(r[3], 64)
				require.NoError(t, err)
				assert.Positive(t, loss)
			}
			for _, o := range []string{"kfac", "adam", "sgd"} {
				assert.GreaterOrEqual(t, seen[o], 2, o)
			}
		})
	}
}

// The same seed gives the same numbers (wall-clock columns aside).
func TestReproducible(t *testing.T) {
	losses := func() []string {
		dir := filepath.Join(t.TempDir(), "out")
		var stdout, stderr bytes.Buffer
		require.NoError(t, run([]string{"-steps", "20", "-train", "300", "-optimizers", "kfac,adam", "-adam-lrs", "0.01,0.03", "-out", dir}, &stdout, &stderr))
		b, err := os.ReadFile(filepath.Join(dir, "runs.csv"))
		require.NoError(t, err)
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ",")
			out = append(out, strings.Join(append(f[:2:2], f[3:]...), ","))
		}
		return out
	}
	assert.Equal(t, losses(), losses())
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("1,2,0\n3,4\n"), 0o644))
	nonEmpty := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(nonEmpty, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-task", "regress"}, "-task"},
		{[]string{"-optimizers", "lbfgs"}, "unknown"},
		{[]string{"-batch", "0"}, "-batch"},
		{[]string{"-damping", "-1"}, "-damping"},
		{[]string{"-sizes", "64,x,64"}, "-sizes"},
		{[]string{"-sizes", "64,16,63"}, "63"},
		{[]string{"-activations", "swish"}, "swish"},
		{[]string{"-factors", "kflr"}, "-factors"},
		{[]string{"-train", "5000"}, "held-out"},
		{[]string{"-data", bad}, "bad.csv:2"},
		{[]string{"-data", filepath.Join(dir, "missing.csv")}, "missing.csv"},
		{[]string{"-out", nonEmpty}, "-force"},
		{[]string{"-adam-lrs", "0.1,-1"}, "-adam-lrs"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append(c.args, "-steps", "2"), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
