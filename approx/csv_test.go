package approx

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
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

// noTemp fails if the directory holds anything but the named files.
func noTemp(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got)
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
	dir := t.TempDir()
	path := filepath.Join(dir, "cmp.csv")
	require.NoError(t, WriteRecords(path, recs))
	got, err := ReadRecordsFile(path)
	require.NoError(t, err)
	assertSameRecords(t, recs, got)
	noTemp(t, dir, "cmp.csv")

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	assert.Equal(t, "step,matrix,approximation,metric,value", lines[0])
	assert.Equal(t, "0,ggn,kfac,rel_frobenius,0.3333333333333333", lines[1])
	assert.Equal(t, `6,"a,b","q""uote",smallest,5e-324`, lines[7])
	assert.Equal(t, "8,ggn,kfac,pi,3.141592653589793", lines[9])

	// A failed write leaves the old file whole and no temporary behind.
	err = WriteRecords(path, []Record{{Step: 1, Metric: ""}})
	assert.Error(t, err)
	again, err := ReadRecordsFile(path)
	require.NoError(t, err)
	assertSameRecords(t, recs, again)
	noTemp(t, dir, "cmp.csv")
}

func TestRecordLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.csv")
	l, err := OpenRecordLog(path)
	require.NoError(t, err)
	assert.Empty(t, l.Records())
	var all []Record
	for step := 0; step < 3; step++ {
		batch := []Record{
			{step, "ggn", "kfac", "rel_frobenius", 0.1 * float64(step+1)},
			{step, "ggn", "diag", "rel_frobenius", 1 / float64(step+3)},
		}
		require.NoError(t, l.Append(batch...))
		all = append(all, batch...)
		got, err := ReadRecordsFile(path)
		require.NoError(t, err)
		assertSameRecords(t, all, got)
	}
	// Resuming reads the rows back and keeps adding.
	l2, err := OpenRecordLog(path)
	require.NoError(t, err)
	assertSameRecords(t, all, l2.Records())
	require.NoError(t, l2.Append(Record{3, "ggn", "kfac", "floats", 12}))
	got, _ := ReadRecordsFile(path)
	assert.Len(t, got, 7)
	noTemp(t, dir, "run.csv")

	assert.Error(t, l2.Append(Record{Step: 4}), "empty metric")
	got, _ = ReadRecordsFile(path)
	assert.Len(t, got, 7)
	assert.Len(t, l2.Records(), 7)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("a,b\n"), 0o644))
	_, err = OpenRecordLog(filepath.Join(dir, "bad.csv"))
	assert.Error(t, err)
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

func TestMatrixCSVRoundTrip(t *testing.T) {
	rnd := newRand(61)
	m := randDense(rnd, 4, 3)
	m.Set(0, 0, 1.0/3)
	m.Set(1, 1, 5e-324)
	m.Set(2, 2, -math.MaxFloat64)
	m.Set(3, 0, math.Copysign(0, -1))
	dir := t.TempDir()
	path := filepath.Join(dir, "m.csv")
	require.NoError(t, WriteMatrixCSV(path, m))
	got, err := ReadMatrixCSV(path)
	require.NoError(t, err)
	r, c := got.Dims()
	require.Equal(t, 4, r)
	require.Equal(t, 3, c)
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			assert.True(t, sameFloat(m.At(i, j), got.At(i, j)), "%d,%d", i, j)
		}
	}
	raw, _ := os.ReadFile(path)
	assert.True(t, strings.HasPrefix(string(raw), "0.3333333333333333,"))

	v := []float64{1, 0.1, -2.5e-17}
	vp := filepath.Join(dir, "v.csv")
	require.NoError(t, WriteVectorCSV(vp, v))
	raw, _ = os.ReadFile(vp)
	assert.Equal(t, "1\n0.1\n-2.5e-17\n", string(raw))
	gv, err := ReadMatrixCSV(vp)
	require.NoError(t, err)
	assert.Equal(t, v, mat.Col(nil, 0, gv))
	noTemp(t, dir, "m.csv", "v.csv")

	assert.Error(t, WriteVectorCSV(vp, nil))
	for _, text := range []string{"", "1,2\n3\n", "1,x\n"} {
		_, err := ReadMatrixCSVFrom(strings.NewReader(text))
		assert.Error(t, err, "%q", text)
	}
}
