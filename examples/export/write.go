package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/curvkit/curvkit/curvature/data"
)

// writeAtomic writes path through write atomically (data.WriteFileAtomic),
// naming the file in an error.
func writeAtomic(path string, write func(w io.Writer) error) error {
	if err := data.WriteFileAtomic(path, write); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeCSV writes a header and rows atomically.
func writeCSV(path string, header []string, rows [][]string) error {
	return writeAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}

// formatFloat writes v with the fewest digits that parse back to the same
// float64 (NaN as NaN), as the matrix files do.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
