package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes path through write so that a crash leaves either
// the old file or the complete new one, never a part: the data go to a
// temporary file in the same directory, which is flushed, fsynced, closed
// and renamed over path; the directory is then fsynced so the rename
// itself survives a crash (best effort where directories cannot be
// synced). Every file the toolkit and its examples write goes through it.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
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
