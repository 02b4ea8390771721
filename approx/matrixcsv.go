package approx

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/data"
)

// WriteMatrixCSV writes m to path as CSV without a header, one line per row,
// every value with the fewest digits that parse back to the same float64,
// atomically (a crash leaves the previous file or the whole new one).
func WriteMatrixCSV(path string, m mat.Matrix) error {
	return data.WriteFileAtomic(path, func(w io.Writer) error { return WriteMatrixCSVTo(w, m) })
}

// WriteMatrixCSVTo writes m to w as WriteMatrixCSV does.
func WriteMatrixCSVTo(w io.Writer, m mat.Matrix) error {
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
			return fmt.Errorf("approx: %w", err)
		}
	}
	return nil
}

// WriteVectorCSV writes v to path as a column, one value per line, as
// WriteMatrixCSV writes an n×1 matrix.
func WriteVectorCSV(path string, v []float64) error {
	if len(v) == 0 {
		return fmt.Errorf("approx: empty vector")
	}
	return WriteMatrixCSV(path, mat.NewVecDense(len(v), v))
}

// ReadMatrixCSV reads a headerless numeric CSV file, as WriteMatrixCSV
// writes, into a matrix. It returns an error for an empty file, ragged
// rows or a field that is not a number.
func ReadMatrixCSV(path string) (*mat.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("approx: %w", err)
	}
	defer f.Close()
	m, err := ReadMatrixCSVFrom(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadMatrixCSVFrom reads a matrix as ReadMatrixCSV does.
func ReadMatrixCSVFrom(r io.Reader) (*mat.Dense, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), math.MaxInt32)
	var data []float64
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
			return nil, fmt.Errorf("approx: line %d has %d fields, want %d", line, len(fields), cols)
		}
		for _, s := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("approx: line %d: %q is not a number", line, s)
			}
			data = append(data, v)
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("approx: %w", err)
	}
	if rows == 0 {
		return nil, fmt.Errorf("approx: empty matrix CSV")
	}
	return mat.NewDense(rows, cols, data), nil
}
