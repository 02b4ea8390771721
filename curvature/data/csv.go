package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// CSVOptions describes the columns of a CSV file. Each data row holds the
// inputs followed by the targets: one class index for classification
// (Classes > 0), or Targets output values otherwise.
type CSVOptions struct {
	// Inputs is the number of input columns d. If Inputs is 0 it is inferred
	// from the first data row as all columns but the target columns.
	Inputs int

	// Classes is the number of classes of a classification set, whose rows
	// end in one label column holding an integer in [0, Classes).
	Classes int

	// Targets is the number of target columns T of a regression or
	// multi-label set (Classes = 0), where it must be positive. With
	// Classes > 0 it must be 0 or 1.
	Targets int

	// Skip is the number of lines to skip at the start of the input, such as
	// a header. If Skip is 0 no line is skipped.
	Skip int
}

// maxColumns bounds Inputs and Targets so that column arithmetic cannot
// overflow.
const maxColumns = 1 << 30

// targets returns the number of target columns T, or an error for
// inconsistent options.
func (o CSVOptions) targets() (int, error) {
	switch {
	case o.Inputs < 0 || o.Classes < 0 || o.Targets < 0 || o.Skip < 0:
		return 0, fmt.Errorf("data: negative CSVOptions field in %+v", o)
	case o.Inputs > maxColumns || o.Targets > maxColumns:
		return 0, fmt.Errorf("data: CSVOptions column count too large in %+v", o)
	case o.Classes > 0 && o.Targets > 1:
		return 0, fmt.Errorf("data: CSVOptions with %d classes must have 1 target column, not %d", o.Classes, o.Targets)
	case o.Classes > 0:
		return 1, nil
	case o.Targets == 0:
		return 0, errors.New("data: CSVOptions must set Classes or Targets")
	}
	return o.Targets, nil
}

// ParseError is the error ReadCSV and LoadCSV return for malformed input.
type ParseError struct {
	File   string // file name, empty for ReadCSV
	Line   int    // 1-based line number, 0 when the error is not about one line
	Column int    // 1-based column number, 0 when the error is about the whole line
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("data: ")
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column > 0 {
		fmt.Fprintf(&b, "column %d: ", e.Column)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// LoadCSV reads the CSV file at path as ReadCSV does; errors name the file.
// A gzip-compressed file (conventionally path.gz) is decompressed.
func LoadCSV(path string, opt CSVOptions) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return readCSV(f, opt, path)
}

// ReadCSV reads a data set from comma-separated values described by opt.
// Input that starts with the gzip magic bytes is decompressed first.
//
// After the opt.Skip first lines, every non-blank line is one sample: the
// inputs, then the targets. Fields are decimal numbers (1, -0.5, 2.5e-3,
// .5), optionally surrounded by spaces; Go's hexadecimal floats and digit
// separators, which strconv.ParseFloat also accepts, are refused, and
// quoting is not supported.
// Lines may end in "\n" or "\r\n", and a leading UTF-8 byte-order mark is
// ignored. Ragged rows, non-numbers, NaN and infinities, labels that are not
// integers in [0, Classes) and input without data rows are rejected with a
// *ParseError giving the 1-based line (counting skipped and blank lines) and
// column.
func ReadCSV(r io.Reader, opt CSVOptions) (*Set, error) {
	return readCSV(r, opt, "")
}

func readCSV(r io.Reader, opt CSVOptions, file string) (*Set, error) {
	t, err := opt.targets()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &ParseError{File: file, Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}

	d := opt.Inputs
	var xs, ys []float64
	line := 0
	for {
		s, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, &ParseError{File: file, Line: line + 1, Err: fmt.Errorf("read: %w", rerr)}
		}
		if len(s) == 0 && rerr == io.EOF {
			break
		}
		line++
		if line == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
		}
		s = strings.TrimRight(s, "\r\n")
		if line > opt.Skip && strings.TrimSpace(s) != "" {
			nf := strings.Count(s, ",") + 1
			if d == 0 {
				d = nf - t
				if d < 1 {
					return nil, &ParseError{File: file, Line: line,
						Err: fmt.Errorf("%d columns, want at least %d inputs and %d target columns", nf, 1, t)}
				}
			}
			if nf-t != d {
				return nil, &ParseError{File: file, Line: line,
					Err: fmt.Errorf("expected %d columns (%d inputs, %d targets), got %d", d+t, d, t, nf)}
			}
			for col := 1; col <= nf; col++ {
				f, rest, _ := strings.Cut(s, ",")
				s = rest
				v, err := parseField(f, col > d, opt.Classes)
				if err != nil {
					return nil, &ParseError{File: file, Line: line, Column: col, Err: err}
				}
				if col <= d {
					xs = append(xs, v)
				} else {
					ys = append(ys, v)
				}
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(xs) == 0 {
		return nil, &ParseError{File: file, Err: fmt.Errorf("no data rows in %d lines (%d skipped)", line, min(line, opt.Skip))}
	}
	n := len(xs) / d
	return &Set{X: mat.NewDense(n, d, xs), Y: mat.NewDense(n, t, ys), Classes: opt.Classes}, nil
}

// parseField parses one field; target fields of a classification set must
// be class labels.
func parseField(f string, target bool, classes int) (float64, error) {
	f = strings.TrimSpace(f)
	v, err := strconv.ParseFloat(f, 64)
	switch {
	case err == nil && goSyntax(f):
		return 0, notDecimal(f)
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%q is out of the float64 range", f)
	case err != nil:
		return 0, fmt.Errorf("%q is not a number", f)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%q is not finite", f)
	}
	if target && classes > 0 {
		if err := checkLabel(v, classes); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// errNotDecimal is the error of a field in Go's number syntax only.
var errNotDecimal = errors.New("not a decimal number")

// notDecimal is the error of a field in Go-only syntax.
func notDecimal(f string) error {
	return fmt.Errorf("%q is %w (hexadecimal floats and digit separators are not accepted)", f, errNotDecimal)
}

// goSyntax reports whether f, which strconv.ParseFloat accepts, is written
// in syntax only Go takes — a hexadecimal float (0x1p-2) or digit
// separators (1_000) — which no other CSV reader does: pandas, R or a
// spreadsheet would read the file differently. Their marks '_', 'x' and
// 'p' (of either case) appear in no decimal number nor in ParseFloat's
// words for infinity and NaN, and no Go-only form is shorter than "1_0"
// (tested exhaustively), so a short field, most of any file, costs a
// length test. It is small enough to inline.
func goSyntax(f string) bool {
	if len(f) < 3 {
		return false
	}
	for i := 0; i < len(f); i++ {
		// c|0x20 folds 'X' to 'x' and 'P' to 'p' (and touches no digit).
		if c := f[i]; c == '_' || c|0x20 == 'x' || c|0x20 == 'p' {
			return true
		}
	}
	return false
}

// WriteCSV writes s in the format ReadCSV reads, without a header: each row
// holds the inputs then the targets, formatted so that they read back
// exactly. It returns Validate's error for an invalid set.
func WriteCSV(w io.Writer, s *Set) error {
	if err := s.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var buf []byte
	for i := range s.Len() {
		buf = buf[:0]
		for _, v := range s.Input(i) {
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			buf = append(buf, ',')
		}
		for _, v := range s.Target(i) {
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			buf = append(buf, ',')
		}
		buf[len(buf)-1] = '\n'
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("data: write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("data: write: %w", err)
	}
	return nil
}
