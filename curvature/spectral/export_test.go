package spectral

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature"
)

func smallDensity(t *testing.T) *Density {
	a := randSym(20, rand.New(rand.NewPCG(21, 1)))
	d, err := (&SLQ{Steps: 10, Probes: 3, Points: 50, Seed: 1}).Density(curvature.NewDense(a))
	require.NoError(t, err)
	return d
}

// TestDensityCSV reads the CSV back with encoding/csv: a header x,density
// and every value exactly.
func TestDensityCSV(t *testing.T) {
	d := smallDensity(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "density.csv")
	require.NoError(t, os.WriteFile(path, []byte("old contents"), 0o644))
	require.NoError(t, d.SaveCSV(path))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(d.X)+1)
	assert.Equal(t, []string{"x", "density"}, rows[0])
	for i, r := range rows[1:] {
		x, err := strconv.ParseFloat(r[0], 64)
		require.NoError(t, err)
		y, err := strconv.ParseFloat(r[1], 64)
		require.NoError(t, err)
		assert.Equal(t, d.X[i], x)
		assert.Equal(t, d.Y[i], y)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	assert.Error(t, d.SaveCSV(filepath.Join(dir, "missing", "density.csv")))
	var buf bytes.Buffer
	require.NoError(t, d.WriteCSV(&buf))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, buf.Bytes(), b)
}

// TestDensityPNG decodes the PNG and checks its size.
func TestDensityPNG(t *testing.T) {
	d := smallDensity(t)
	path := filepath.Join(t.TempDir(), "density.png")
	require.NoError(t, d.SavePNG(path, "test spectrum"))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	b := img.Bounds()
	// 16 cm × 10 cm at gonum/plot's default 96 dpi.
	assert.InDelta(t, 605, b.Dx(), 2)
	assert.InDelta(t, 378, b.Dy(), 2)
}
