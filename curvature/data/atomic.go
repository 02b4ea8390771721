package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteFileAtomic writes path through write so that a crash leaves either
// the old file or the complete new one, never a part: the data go to a
// temporary file in the same directory, which is flushed, fsynced, closed
// and renamed over path; the directory is then fsynced so the rename
// itself survives a crash (best effort where directories cannot be
// synced). Every file the toolkit and its examples write goes through it.
// A process killed mid-write leaves its temporary file behind; TempFiles
// finds those of a path.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// tempPrefix starts the name of WriteFileAtomic's temporary files for a
// file named base; os.CreateTemp appends random decimal digits.
func tempPrefix(base string) string { return "." + base + ".tmp" }

// TempFiles returns the temporary files of WriteFileAtomic for path that
// are in path's directory: a write in progress, or one whose process was
// killed. A command that owns path removes them after it has written path,
// so that killed runs leave nothing behind once a run succeeds.
func TempFiles(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var tmp []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tempPrefix(base))
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" && e.Type().IsRegular() {
			tmp = append(tmp, filepath.Join(dir, e.Name()))
		}
	}
	return tmp, nil
}
