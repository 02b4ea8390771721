package approx

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

func assertSameRecords(t *testing.T, want, got []Record) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for i := range want {
		w, g := want[i], got[i]
		assert.True(t, sameFloat(w.Value, g.Value), "row %d value %v, got %v", i, w.Value, g.Value)
		w.Value, g.Value = 0, 0
		assert.Equal(t, w, g, "row %d", i)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	recs := []Record{
		{0, "ggn", "kfac", "rel_frobenius", 1.0 / 3},
		{1, "fisher", "ekfac", "rel_spectral", 1e-300},
		{2, "hessian", "diag", "solve_cosine", math.Copysign(0, -1)},
		{3, "ef", "tonga", "x", math.NaN()},
		{4, "ef", "tonga", "y", math.Inf(1)},
		{5, "ef", "tonga", "z", math.Inf(-1)},
		{6, "a,b", `q"uote`, "smallest", 5e-324},
		{-7, "", "", "largest", math.MaxFloat64},
		{8, "ggn", "kfac", "pi", math.Pi},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteRecords(&buf, recs))
	text := buf.String()
	got, err := ReadRecords(&buf)
	require.NoError(t, err)
	assertSameRecords(t, recs, got)

	lines := strings.Split(text, "\n")
	assert.Equal(t, "step,matrix,approximation,metric,value", lines[0])
	assert.Equal(t, "0,ggn,kfac,rel_frobenius,0.3333333333333333", lines[1])
	assert.Equal(t, `6,"a,b","q""uote",smallest,5e-324`, lines[7])
	assert.Equal(t, "8,ggn,kfac,pi,3.141592653589793", lines[9])

	assert.Error(t, WriteRecords(&buf, []Record{{Step: 1, Metric: ""}}), "empty metric")
}

func TestReadRecordsErrors(t *testing.T) {
	head := "step,matrix,approximation,metric,value\n"
	for _, c := range []struct{ name, text string }{
		{"empty", ""},
		{"bad header", "step,matrix,approx,metric,value\n"},
		{"short row", head + "1,ggn,kfac,m\n"},
		{"bad step", head + "1.5,ggn,kfac,m,1\n"},
		{"bad value", head + "1,ggn,kfac,m,one\n"},
		{"empty metric", head + "1,ggn,kfac,,1\n"},
		{"bare quote", head + "1,g\"gn,kfac,m,1\n"},
	} {
		_, err := ReadRecords(strings.NewReader(c.text))
		assert.Error(t, err, c.name)
	}
	recs, err := ReadRecords(strings.NewReader(head))
	require.NoError(t, err)
	assert.Empty(t, recs)
}
