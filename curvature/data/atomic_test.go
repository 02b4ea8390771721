package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/internal/killtest"
)

// A completed write replaces the file; a failed one leaves the old file
// and no temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error {
		_, err := fmt.Fprint(w, "old\n")
		return err
	}))
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		fmt.Fprint(w, "half a fi")
		return boom
	})
	assert.ErrorIs(t, err, boom)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old\n", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error {
		_, err := fmt.Fprint(w, "new\n")
		return err
	}))
	b, _ = os.ReadFile(path)
	assert.Equal(t, "new\n", string(b))
	assert.Error(t, WriteFileAtomic(filepath.Join(dir, "missing", "x.csv"), func(io.Writer) error { return nil }))
}

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// WriteFiles replaces a set of files and deletes the old run's extra
// outputs; a failure anywhere before the renames — a write function, a
// name that is a directory — leaves the directory exactly as it was.
func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteFiles(dir, []File{{"a.csv", text("a1")}, {"b.png", text("b1")}, {"c_2.csv", text("c1")}}))
	assert.Equal(t, map[string]string{"a.csv": "a1", "b.png": "b1", "c_2.csv": "c1"}, killtest.Snapshot(t, dir))

	boom := errors.New("boom")
	err := WriteFiles(dir, []File{{"a.csv", text("a2")}, {"b.png", func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	}}})
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "b.png")
	assert.Equal(t, map[string]string{"a.csv": "a1", "b.png": "b1", "c_2.csv": "c1"}, killtest.Snapshot(t, dir), "nothing changed, no temporary file")

	require.NoError(t, os.Mkdir(filepath.Join(dir, "d.csv"), 0o755))
	err = WriteFiles(dir, []File{{"a.csv", text("a2")}, {"d.csv", text("d")}})
	assert.ErrorContains(t, err, "is a directory")
	require.NoError(t, os.Remove(filepath.Join(dir, "d.csv")))
	assert.Equal(t, map[string]string{"a.csv": "a1", "b.png": "b1", "c_2.csv": "c1"}, killtest.Snapshot(t, dir))

	for _, bad := range []string{"", ".", "..", "sub/a.csv", "../a.csv"} {
		assert.Error(t, WriteFiles(dir, []File{{bad, text("x")}}), "%q", bad)
		assert.Error(t, WriteFiles(dir, nil, bad), "remove %q", bad)
	}
	assert.Equal(t, map[string]string{"a.csv": "a1", "b.png": "b1", "c_2.csv": "c1"}, killtest.Snapshot(t, dir))

	require.NoError(t, WriteFiles(dir, []File{{"a.csv", text("a3")}, {"b.png", text("b3")}}, "c_2.csv", "never_written.csv"))
	assert.Equal(t, map[string]string{"a.csv": "a3", "b.png": "b3"}, killtest.Snapshot(t, dir))

	assert.Error(t, WriteFiles(filepath.Join(dir, "missing"), []File{{"a.csv", text("a")}}))
}

// RemoveStaleTemps removes the temporary files of the writers' naming for
// the names given, patterns included, and nothing else.
func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.csv", ".a.csv.tmp123", ".a.csv.tmp", ".b.png.tmp9", ".kfac_A_0.csv.tmp1",
		".kfac_G_7.csv.tmp22", "kfac_A_0.csv", ".other.tmp1", "a.csv.tmp1"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644))
	}
	require.NoError(t, RemoveStaleTemps(dir, "a.csv", "b.png", "kfac_*.csv", "absent.csv"))
	assert.Equal(t, map[string]string{"a.csv": "a.csv", "kfac_A_0.csv": "kfac_A_0.csv", ".other.tmp1": ".other.tmp1",
		"a.csv.tmp1": "a.csv.tmp1"}, killtest.Snapshot(t, dir))
	assert.Error(t, RemoveStaleTemps(dir, "../a.csv"))
	assert.Error(t, RemoveStaleTemps(dir, "[")) // a malformed pattern
}
