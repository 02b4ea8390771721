package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		opt     CSVOptions
		x, y    *mat.Dense
		classes int
	}{
		{
			name: "classification",
			in:   "1,2,0\n3,4,1\n",
			opt:  CSVOptions{Inputs: 2, Classes: 2},
			x:    mat.NewDense(2, 2, []float64{1, 2, 3, 4}),
			y:    mat.NewDense(2, 1, []float64{0, 1}), classes: 2,
		},
		{
			name: "inferred inputs, no final newline",
			in:   "1,2,3,2\n-4,5e-1,6,0.0",
			opt:  CSVOptions{Classes: 3},
			x:    mat.NewDense(2, 3, []float64{1, 2, 3, -4, 0.5, 6}),
			y:    mat.NewDense(2, 1, []float64{2, 0}), classes: 3,
		},
		{
			name: "regression targets",
			in:   "1,2,3\n4,5,6\n",
			opt:  CSVOptions{Inputs: 1, Targets: 2},
			x:    mat.NewDense(2, 1, []float64{1, 4}),
			y:    mat.NewDense(2, 2, []float64{2, 3, 5, 6}),
		},
		{
			name: "inferred inputs with targets",
			in:   "1,2,3\n4,5,6\n",
			opt:  CSVOptions{Targets: 2},
			x:    mat.NewDense(2, 1, []float64{1, 4}),
			y:    mat.NewDense(2, 2, []float64{2, 3, 5, 6}),
		},
		{
			name: "header, CRLF, spaces, blank lines, BOM",
			in:   "\ufeffa,b,label\r\nx,y\r\n 1 , 2,1\r\n\r\n  \n3,\t4 ,0\r\n\n",
			opt:  CSVOptions{Inputs: 2, Classes: 2, Skip: 2},
			x:    mat.NewDense(2, 2, []float64{1, 2, 3, 4}),
			y:    mat.NewDense(2, 1, []float64{1, 0}), classes: 2,
		},
		{
			name: "decimal forms",
			in:   "+1,.5,5.,-0,1E+2,2e-1,0\n",
			opt:  CSVOptions{Classes: 2},
			x:    mat.NewDense(1, 6, []float64{1, 0.5, 5, math.Copysign(0, -1), 100, 0.2}),
			y:    mat.NewDense(1, 1, []float64{0}), classes: 2,
		},
		{
			name: "Classes with Targets 1",
			in:   "7,1\n",
			opt:  CSVOptions{Classes: 2, Targets: 1},
			x:    mat.NewDense(1, 1, []float64{7}),
			y:    mat.NewDense(1, 1, []float64{1}), classes: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				in := []byte(tc.in)
				if gz {
					in = gzipBytes(t, in)
				}
				s, err := ReadCSV(bytes.NewReader(in), tc.opt)
				if err != nil {
					t.Fatalf("gzip %v: %v", gz, err)
				}
				if !mat.Equal(s.X, tc.x) || !mat.Equal(s.Y, tc.y) || s.Classes != tc.classes {
					t.Errorf("gzip %v: got X=%v Y=%v classes %d", gz, mat.Formatted(s.X), mat.Formatted(s.Y), s.Classes)
				}
				if err := s.Validate(); err != nil {
					t.Errorf("read set does not validate: %v", err)
				}
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	cls := CSVOptions{Inputs: 2, Classes: 3}
	for _, tc := range []struct {
		name      string
		in        string
		opt       CSVOptions
		line, col int
		msg       string
	}{
		{name: "empty", in: "", opt: cls, msg: "data: no data rows in 0 lines (0 skipped)"},
		{name: "only blank", in: "\n \n\r\n", opt: cls, msg: "no data rows in 3 lines"},
		{name: "only header", in: "a,b,c\n", opt: CSVOptions{Classes: 2, Skip: 1}, msg: "no data rows in 1 lines (1 skipped)"},
		{name: "short row", in: "1,2,0\n1,2\n", opt: cls, line: 2, msg: "data: line 2: expected 3 columns (2 inputs, 1 targets), got 2"},
		{name: "long row", in: "1,2,0\n\n1,2,0,0\n", opt: cls, line: 3, msg: "expected 3 columns (2 inputs, 1 targets), got 4"},
		{name: "ragged after inference", in: "1,2,3,0\n1,2,0\n", opt: CSVOptions{Classes: 2}, line: 2, msg: "expected 4 columns (3 inputs, 1 targets), got 3"},
		{name: "too few to infer", in: "1,2\n", opt: CSVOptions{Targets: 2}, line: 1, msg: "2 columns, want at least 1 inputs and 2 target columns"},
		{name: "not a number", in: "1,2,0\n1,x,0\n", opt: cls, line: 2, col: 2, msg: `data: line 2: column 2: "x" is not a number`},
		{name: "empty field", in: "1,,0\n", opt: cls, line: 1, col: 2, msg: `"" is not a number`},
		{name: "quoted", in: `"1",2,0`, opt: cls, line: 1, col: 1, msg: `"\"1\"" is not a number`},
		{name: "NaN", in: "NaN,2,0\n", opt: cls, line: 1, col: 1, msg: `"NaN" is not finite`},
		{name: "Inf target", in: "1,2,-Inf\n", opt: CSVOptions{Targets: 1}, line: 1, col: 3, msg: `"-Inf" is not finite`},
		{name: "overflow", in: "1,1e999,0\n", opt: cls, line: 1, col: 2, msg: `"1e999" is out of the float64 range`},
		{name: "label too big", in: "1,2,3\n", opt: cls, line: 1, col: 3, msg: "class label 3 out of range [0, 3)"},
		{name: "negative label", in: "1,2,-1\n", opt: cls, line: 1, col: 3, msg: "class label -1 out of range"},
		{name: "fractional label", in: "1,2,0.5\n", opt: cls, line: 1, col: 3, msg: "class label 0.5 is not an integer"},
		{name: "header not skipped", in: "a,b,c\n1,2,0\n", opt: cls, line: 1, col: 1, msg: `"a" is not a number`},
		{name: "line count after skip", in: "h\nh\n1,2,0\n1,2,9\n", opt: CSVOptions{Inputs: 2, Classes: 3, Skip: 2}, line: 4, col: 3, msg: "data: line 4: column 3: class label 9"},
		{name: "no targets set", in: "1,2\n", opt: CSVOptions{}, msg: "must set Classes or Targets"},
		{name: "negative option", in: "1,2\n", opt: CSVOptions{Targets: 1, Skip: -1}, msg: "negative CSVOptions"},
		{name: "classes and targets", in: "1,2\n", opt: CSVOptions{Classes: 2, Targets: 2}, msg: "must have 1 target column, not 2"},
		{name: "huge inputs", in: "1,2\n", opt: CSVOptions{Inputs: 1 << 40, Targets: 1}, msg: "column count too large"},
		{name: "bad gzip", in: "\x1f\x8b\x00\x00", opt: cls, msg: "gzip:"},
		// Go's number syntax, which strconv.ParseFloat accepts and no other
		// CSV reader does.
		{name: "digit separator", in: "1_000,2,0\n", opt: cls, line: 1, col: 1, msg: `"1_000" is not a decimal number`},
		{name: "hexadecimal float", in: "1,0x1p-2,0\n", opt: cls, line: 1, col: 2, msg: `"0x1p-2" is not a decimal number`},
		{name: "hexadecimal label", in: "1,2,0x1p0\n", opt: cls, line: 1, col: 3, msg: `"0x1p0" is not a decimal number`},
		{name: "separator in hex", in: "1,0x_1p0,0\n", opt: cls, line: 1, col: 2, msg: "is not a decimal number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadCSV(strings.NewReader(tc.in), tc.opt)
			if err == nil {
				t.Fatalf("accepted: %v", s)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q, want %q", err, tc.msg)
			}
			var pe *ParseError
			if errors.As(err, &pe) && (pe.Line != tc.line || pe.Column != tc.col) {
				t.Errorf("error at line %d column %d, want %d, %d", pe.Line, pe.Column, tc.line, tc.col)
			}
		})
	}
}

func TestReadCSVTruncatedGzip(t *testing.T) {
	z := gzipBytes(t, []byte(strings.Repeat("1,2,0\n", 1000)))
	_, err := ReadCSV(bytes.NewReader(z[:len(z)/2]), CSVOptions{Classes: 2})
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "read:") || pe.Line < 1 {
		t.Errorf("err = %v, want a read error with a line number", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v does not wrap io.ErrUnexpectedEOF", err)
	}
}

func TestLoadCSV(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "ok.csv")
	zipped := filepath.Join(dir, "ok.csv.gz")
	bad := filepath.Join(dir, "bad.csv.gz")
	empty := filepath.Join(dir, "empty.csv")
	content := []byte("0.5,1\n2,0\n")
	for name, b := range map[string][]byte{
		plain:  content,
		zipped: gzipBytes(t, content),
		bad:    gzipBytes(t, []byte("0.5,1\n2,zero\n")),
		empty:  nil,
	} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := mat.NewDense(2, 1, []float64{0.5, 2})
	for _, name := range []string{plain, zipped} {
		s, err := LoadCSV(name, CSVOptions{Classes: 2})
		if err != nil || !mat.Equal(s.X, want) {
			t.Errorf("LoadCSV(%s) = %v, %v", name, s, err)
		}
	}
	_, err := LoadCSV(bad, CSVOptions{Classes: 2})
	if err == nil || !strings.Contains(err.Error(), bad+`:2: column 2: "zero" is not a number`) {
		t.Errorf("err = %v, want file:line:column", err)
	}
	_, err = LoadCSV(empty, CSVOptions{Classes: 2})
	if err == nil || err.Error() != "data: "+empty+": no data rows in 0 lines (0 skipped)" {
		t.Errorf("err = %v, want no data rows naming the file", err)
	}
	_, err = LoadCSV(filepath.Join(dir, "missing.csv"), CSVOptions{Classes: 2})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("err = %v, want a not-exist error naming the file", err)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	// Values whose shortest decimal forms need all 17 digits or exponents.
	x := mat.NewDense(3, 2, []float64{0.1, 1.0 / 3, -2e-308, 1e300, math.Copysign(0, -1), 123456789.123456789})
	for _, tc := range []struct {
		name string
		s    *Set
		opt  CSVOptions
		text string
	}{
		{
			name: "classification",
			s:    &Set{X: x, Y: mat.NewDense(3, 1, []float64{2, 0, 1}), Classes: 3},
			opt:  CSVOptions{Classes: 3},
			text: "0.1,0.3333333333333333,2\n-2e-308,1e+300,0\n-0,1.2345678912345679e+08,1\n",
		},
		{
			name: "regression",
			s:    &Set{X: x, Y: mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5.5, -6})},
			opt:  CSVOptions{Targets: 2},
			text: "0.1,0.3333333333333333,1,2\n-2e-308,1e+300,3,4\n-0,1.2345678912345679e+08,5.5,-6\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, tc.s); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.text {
				t.Errorf("wrote %q, want %q", buf.String(), tc.text)
			}
			back, err := ReadCSV(&buf, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !mat.Equal(back.X, tc.s.X) || !mat.Equal(back.Y, tc.s.Y) {
				t.Error("round trip changed the values")
			}
		})
	}
	if err := WriteCSV(&bytes.Buffer{}, &Set{}); err == nil {
		t.Error("WriteCSV accepted an empty set")
	}
	// A small set fails when the buffer is flushed, a large one while
	// writing rows.
	for _, n := range []int{3, 2000} {
		if err := WriteCSV(failWriter{}, seqSet(n, 2)); !errors.Is(err, errDiskFull) {
			t.Errorf("%d rows: err = %v, want the writer's error", n, err)
		}
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// goSyntax skips its scan for fields shorter than three bytes: no such
// string that strconv.ParseFloat accepts holds a mark of Go-only syntax.
// Every 1- and 2-byte string is tried.
func TestShortFieldsHoldNoGoSyntax(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := -1; b < 256; b++ {
			f := []byte{byte(a)}
			if b >= 0 {
				f = append(f, byte(b))
			}
			if _, err := strconv.ParseFloat(string(f), 64); err == nil && bytes.ContainsAny(f, "_xXpP") {
				t.Errorf("%q parses and holds Go-only syntax", f)
			}
		}
	}
}
