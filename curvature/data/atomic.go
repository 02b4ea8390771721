package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes path through write so that a crash leaves either
// the old file or the complete new one, never a part: the data go to a
// temporary file in the same directory, named "."+base+".tmp" and a random
// suffix, which is flushed, fsynced, closed and renamed over path; the
// directory is then fsynced so the rename itself survives a crash (best
// effort where directories cannot be synced). A failed write removes its
// temporary file; one left by a process killed mid-write is removed by
// RemoveStaleTemps. Every file the toolkit and its examples write goes
// through it, or through WriteFiles when files belong together.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := writeTemp(dir, base, write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("data: %w", err)
	}
	syncDir(dir)
	return nil
}

// A File is one file of a set that WriteFiles writes: its name in the
// directory and the function that writes its contents.
type File struct {
	Name  string
	Write func(w io.Writer) error
}

// WriteFiles writes files into dir as one set, the outputs of one run, so
// that a crash never leaves a file in part nor the new set mixed with an
// older one: every file is first written to a temporary file as
// WriteFileAtomic does; only when all are complete are the old versions
// of their names, and the files named in remove (outputs of an earlier run
// that this one does not produce), deleted, in that order, and the new
// files renamed into place, in order. A crash in that last phase, which moves no data, leaves a subset
// of the old set or of the new one. An error before it — a write function
// that fails, a full disk, a name that is a directory — leaves dir as it
// was, with no temporary file. The directory must exist, and names must be
// plain file names.
func WriteFiles(dir string, files []File, remove ...string) (err error) {
	for _, f := range files {
		if err := checkName(f.Name); err != nil {
			return err
		}
	}
	for _, name := range remove {
		if err := checkName(name); err != nil {
			return err
		}
	}
	tmps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, tmp := range tmps {
				os.Remove(tmp)
			}
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(dir, f.Name, f.Write)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		tmps = append(tmps, tmp)
	}
	// Nothing has changed yet: refuse names that cannot be replaced
	// before the first old file goes.
	old := append(make([]string, 0, len(files)+len(remove)), remove...)
	for _, f := range files {
		old = append(old, f.Name)
	}
	for _, name := range old {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && fi.IsDir() {
			return fmt.Errorf("data: %s is a directory", filepath.Join(dir, name))
		}
	}
	for _, name := range old {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("data: %w", err)
		}
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	syncDir(dir)
	return nil
}

// RemoveStaleTemps removes from dir the temporary files that WriteFileAtomic
// and WriteFiles name after each of names ("."+name+".tmp" and a suffix)
// and that a process killed mid-write left behind. A name may be a
// filepath.Match pattern ("kfac_*.csv"). A command calls it at the end of a
// successful run: a write still in progress in another process into the
// same directory would lose its temporary file.
func RemoveStaleTemps(dir string, names ...string) error {
	stale, err := StaleTemps(dir, names...)
	if err != nil {
		return err
	}
	for _, path := range stale {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("data: %w", err)
		}
	}
	return nil
}

// StaleTemps returns the paths of the temporary files in dir that
// WriteFileAtomic and WriteFiles name after each of names (see
// RemoveStaleTemps): a write in progress, or one whose process was killed.
func StaleTemps(dir string, names ...string) ([]string, error) {
	var stale []string
	for _, name := range names {
		if err := checkName(name); err != nil {
			return nil, err
		}
		paths, err := filepath.Glob(filepath.Join(dir, "."+name+".tmp*"))
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		stale = append(stale, paths...)
	}
	return stale, nil
}

// checkName refuses a name that is not a plain file name.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return fmt.Errorf("data: %q is not a file name", name)
	}
	return nil
}

// writeTemp writes a complete, synced temporary file for base in dir and
// returns its path; on an error it leaves nothing behind.
func writeTemp(dir, base string, write func(w io.Writer) error) (_ string, err error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
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
		return "", err
	}
	if err = bw.Flush(); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if err = f.Sync(); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if err = f.Chmod(0o644); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	return tmp, nil
}

// syncDir fsyncs a directory so that renames into it survive a crash,
// where directories can be synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
