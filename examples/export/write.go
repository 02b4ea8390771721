package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

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

// csvFile is the output file that holds a header and rows.
func csvFile(name string, header []string, rows [][]string) data.File {
	return data.File{Name: name, Write: func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	}}
}

// formatFloat writes v with the fewest digits that parse back to the same
// float64 (NaN as NaN), as the matrix files do.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
