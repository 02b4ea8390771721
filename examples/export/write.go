package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/curvkit/curvkit/curvature/data"
)

// kfacFiles matches the K-FAC factor files of any run.
const kfacFiles = "kfac_[AG]_*.csv"

// writeOutputs writes the files into dir as one set (data.WriteFiles),
// creating dir if it is missing, and deletes the factor files of an
// earlier run on a network with more layers. On an error dir is as it
// was: if this call created it, it is removed again.
func writeOutputs(dir string, files []data.File) (err error) {
	if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				os.Remove(dir) // empty: WriteFiles cleans up after itself
			}
		}()
	}
	old, err := filepath.Glob(filepath.Join(dir, kfacFiles))
	if err != nil {
		return err
	}
	var stale []string
	for _, path := range old {
		name := filepath.Base(path)
		if !slices.ContainsFunc(files, func(f data.File) bool { return f.Name == name }) {
			stale = append(stale, name)
		}
	}
	if err := data.WriteFiles(dir, files, stale...); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	names := []string{kfacFiles}
	for _, f := range files {
		names = append(names, f.Name)
	}
	return data.RemoveStaleTemps(dir, names...)
}
