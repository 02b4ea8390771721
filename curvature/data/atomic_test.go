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

// TempFiles finds the temporary files a killed WriteFileAtomic leaves for
// a path (made here as WriteFileAtomic makes them, then abandoned), and
// nothing else: not another path's, not the file itself, not a look-alike.
func TestTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.csv")
	var want []string
	for range 2 {
		f, err := os.CreateTemp(dir, tempPrefix("runs.csv")+"*")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		want = append(want, f.Name())
	}
	for _, name := range []string{"runs.csv", ".runs.csv.tmp", ".runs.csv.tmpx1", ".other.csv.tmp123", "runs.csv.tmp123"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".runs.csv.tmp9"), 0o755))
	got, err := TempFiles(path)
	require.NoError(t, err)
	assert.ElementsMatch(t, want, got)

	// A completed write leaves none of its own.
	for _, p := range got {
		require.NoError(t, os.Remove(p))
	}
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error { _, err := fmt.Fprint(w, "x\n"); return err }))
	got, err = TempFiles(path)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = TempFiles(filepath.Join(dir, "missing", "x.csv"))
	assert.Error(t, err)
}
