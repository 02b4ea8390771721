package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// table runs the example and returns the target and the table's rows,
// each split into its six columns.
func table(t *testing.T, steps int, seed uint64) (target float64, rows map[string][]string, out string) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, run(&buf, steps, seed))
	out = buf.String()
	m := regexp.MustCompile(`target training loss (\S+): the best Adam reaches in (\d+) steps`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	target, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(steps), m[2])

	cols := regexp.MustCompile(`\s{2,}`)
	rows = map[string][]string{}
	var header []string
	for _, line := range strings.Split(out, "\n") {
		f := cols.Split(strings.TrimSpace(line), -1)
		switch {
		case len(f) > 0 && f[0] == "optimizer":
			header = f
		case header != nil && len(f) == len(header):
			rows[f[0]] = f
		}
	}
	require.Equal(t, []string{"optimizer", "steps to target", "seconds to target", "ms/step", "train loss", "held-out loss"}, header, out)
	require.Len(t, rows, 2, out)
	return target, rows, out
}

// With a small budget the table has a row for K-FAC and for Adam; Adam's
// best loss is the target, which Adam reaches within the budget and K-FAC
// reaches in fewer steps.
func TestRun(t *testing.T) {
	const steps = 300
	target, rows, out := table(t, steps, 1)
	k, a := rows["K-FAC"], rows["Adam, lr 0.01"]
	require.NotNil(t, k, out)
	require.NotNil(t, a, out)
	for _, r := range [][]string{k, a} {
		for _, f := range r[1:] {
			v, err := strconv.ParseFloat(f, 64)
			require.NoError(t, err, "%s: %q", r[0], f)
			assert.GreaterOrEqual(t, v, 0.0)
		}
	}
	kSteps, _ := strconv.Atoi(k[1])
	aSteps, _ := strconv.Atoi(a[1])
	assert.Positive(t, kSteps)
	assert.LessOrEqual(t, aSteps, steps)
	assert.Less(t, kSteps, aSteps, "K-FAC reaches the target first")
	kLoss, _ := strconv.ParseFloat(k[4], 64)
	assert.LessOrEqual(t, kLoss, target, "K-FAC stops at the target")
	aLoss, _ := strconv.ParseFloat(a[4], 64)
	assert.GreaterOrEqual(t, aLoss, target, "the target is Adam's best")
	assert.Contains(t, out, "K-FAC reached the target in ")
}

// The same seed prints the same table, times aside; another seed does not.
func TestDeterministic(t *testing.T) {
	losses := func(seed uint64) []string {
		target, rows, _ := table(t, 60, seed)
		var out []string
		for _, name := range []string{"K-FAC", "Adam, lr 0.01"} {
			r := rows[name]
			out = append(out, r[0], r[1], r[4], r[5])
		}
		return append(out, strconv.FormatFloat(target, 'g', -1, 64))
	}
	first := losses(1)
	assert.Equal(t, first, losses(1))
	assert.NotEqual(t, first, losses(2))
}
