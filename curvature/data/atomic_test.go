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
