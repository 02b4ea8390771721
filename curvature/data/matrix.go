package data

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// WriteMatrix writes m to w as CSV without a header, one line per row,
// every value with the fewest digits that parse back to the same float64
// (NaN and ±Inf as NaN, +Inf and -Inf). A vector is an n×1 matrix
// (mat.NewVecDense). To a file, go through WriteFileAtomic.
func WriteMatrix(w io.Writer, m mat.Matrix) error {
	r, c := m.Dims()
	buf := make([]byte, 0, 32*c)
	for i := 0; i < r; i++ {
		buf = buf[:0]
		for j := 0; j < c; j++ {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, m.At(i, j), 'g', -1, 64)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	return nil
}

// ReadMatrix reads a headerless numeric CSV, as WriteMatrix writes it,
// into a matrix: decimal numbers, NaN and ±Inf (no hexadecimal floats or
// digit separators, see ReadCSV). It returns an error naming the line of
// ragged rows or a field that is not a number, and for an empty input.
func ReadMatrix(r io.Reader) (*mat.Dense, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), math.MaxInt32)
	var vals []float64
	cols, rows := -1, 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if cols < 0 {
			cols = len(fields)
		} else if len(fields) != cols {
			return nil, fmt.Errorf("data: line %d has %d fields, want %d", line, len(fields), cols)
		}
		for _, s := range fields {
			f := strings.TrimSpace(s)
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("data: line %d: %q is not a number", line, s)
			}
			if goSyntax(f) {
				return nil, fmt.Errorf("data: line %d: %w", line, notDecimal(f))
			}
			vals = append(vals, v)
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if rows == 0 {
		return nil, fmt.Errorf("data: empty matrix CSV")
	}
	return mat.NewDense(rows, cols, vals), nil
}
