package data

import (
	"bytes"
	"io"
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

// Values that need all 17 digits, subnormals, the extremes and −0 come
// back bit for bit, through a file written atomically.
func TestMatrixRoundTrip(t *testing.T) {
	m := mat.NewDense(4, 3, []float64{
		1.0 / 3, 2, 3,
		4, 5e-324, 6,
		7, 8, -math.MaxFloat64,
		math.Copysign(0, -1), math.NaN(), math.Inf(1),
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "m.csv")
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error { return WriteMatrix(w, m) }))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := ReadMatrix(f)
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
	assert.True(t, strings.HasPrefix(string(raw), "0.3333333333333333,2,3\n"))
	assert.True(t, strings.HasSuffix(string(raw), "-0,NaN,+Inf\n"))

	var buf bytes.Buffer
	require.NoError(t, WriteMatrix(&buf, mat.NewVecDense(3, []float64{1, 0.1, -2.5e-17})))
	assert.Equal(t, "1\n0.1\n-2.5e-17\n", buf.String())

	for _, text := range []string{"", "1,2\n3\n", "1,x\n", "1_0,2\n", "0x1p-2\n"} {
		_, err := ReadMatrix(strings.NewReader(text))
		assert.Error(t, err, "%q", text)
	}
}

// FuzzReadMatrix: any input parses or is refused, and what parses
// round-trips exactly.
func FuzzReadMatrix(f *testing.F) {
	f.Add("1,2\n3,4\n")
	f.Add("0.1\n-2.5e-17\n")
	f.Add("1,2\n3\n")
	f.Add("NaN,+Inf\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := ReadMatrix(strings.NewReader(text))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteMatrix(&buf, m); err != nil {
			t.Fatal(err)
		}
		again, err := ReadMatrix(&buf)
		if err != nil {
			t.Fatalf("written matrix does not parse: %v", err)
		}
		r, c := m.Dims()
		r2, c2 := again.Dims()
		if r != r2 || c != c2 {
			t.Fatalf("%d×%d became %d×%d", r, c, r2, c2)
		}
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				if !sameFloat(m.At(i, j), again.At(i, j)) {
					t.Fatalf("%v became %v", m.At(i, j), again.At(i, j))
				}
			}
		}
	})
}
