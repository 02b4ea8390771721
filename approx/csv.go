package approx

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/curvkit/curvkit/curvature/data"
)

// Record is one row of the tidy comparison table: one value of one metric
// of one approximation of one matrix at one step.
type Record struct {
	Step          int
	Matrix        string // e.g. "ggn", "fisher", "hessian"
	Approximation string // e.g. "kfac", "ekfac", "diagonal"
	Metric        string // e.g. MetricRelFrobenius
	Value         float64
}

// Header is the first line of a tidy CSV file.
var Header = []string{"step", "matrix", "approximation", "metric", "value"}

// formatValue writes v with the fewest digits that parse back to the same
// float64 ('g', -1); NaN and ±Inf are written NaN, +Inf and -Inf.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteRecordsTo writes the header and one line per record to w.
// Fields are quoted as RFC 4180 requires.
func WriteRecordsTo(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return fmt.Errorf("approx: %w", err)
	}
	row := make([]string, 5)
	for i, r := range recs {
		if r.Metric == "" {
			return fmt.Errorf("approx: record %d has no metric name", i)
		}
		row[0], row[1], row[2], row[3], row[4] = strconv.Itoa(r.Step), r.Matrix, r.Approximation, r.Metric, formatValue(r.Value)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("approx: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("approx: %w", err)
	}
	return nil
}

// WriteRecords writes the records to path atomically: a crash leaves the
// previous file or the new one, never part of one.
func WriteRecords(path string, recs []Record) error {
	return data.WriteFileAtomic(path, func(w io.Writer) error { return WriteRecordsTo(w, recs) })
}

// ReadRecords reads a tidy CSV file written by WriteRecords. It returns an
// error naming the line of a wrong header, a wrong number of fields, a
// step that is not an integer, an empty metric or a value that is not a
// number.
func ReadRecords(r io.Reader) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(Header)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("approx: empty CSV, want the header %s", strings.Join(Header, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("approx: %w", err)
	}
	if !slices.Equal(head, Header) {
		return nil, fmt.Errorf("approx: CSV header %q, want %q", strings.Join(head, ","), strings.Join(Header, ","))
	}
	var recs []Record
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("approx: %w", err)
		}
		line, _ := cr.FieldPos(0)
		step, err := strconv.Atoi(row[0])
		if err != nil {
			return nil, fmt.Errorf("approx: line %d: step %q is not an integer", line, row[0])
		}
		if row[3] == "" {
			return nil, fmt.Errorf("approx: line %d: empty metric name", line)
		}
		v, err := strconv.ParseFloat(row[4], 64)
		if err != nil {
			return nil, fmt.Errorf("approx: line %d: value %q is not a number", line, row[4])
		}
		recs = append(recs, Record{Step: step, Matrix: row[1], Approximation: row[2], Metric: row[3], Value: v})
	}
}

// ReadRecordsFile reads the tidy CSV file at path.
func ReadRecordsFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("approx: %w", err)
	}
	defer f.Close()
	recs, err := ReadRecords(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// RecordLog is a tidy CSV file that a run extends step by step. It keeps
// every row in memory and each Append rewrites the whole file atomically
// (O(rows) per call), so a crash leaves the file as it was after the
// previous complete Append, never a half-written line. For very long
// runs, append fewer, larger batches.
type RecordLog struct {
	path string
	recs []Record
}

// OpenRecordLog returns a log writing to path. An existing file is read
// first, so a resumed run adds to its rows; a missing file starts empty
// (and is created by the first Append).
func OpenRecordLog(path string) (*RecordLog, error) {
	l := &RecordLog{path: path}
	recs, err := ReadRecordsFile(path)
	switch {
	case err == nil:
		l.recs = recs
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, err
	}
	return l, nil
}

// Append adds the records and rewrites the file atomically. On error the
// records are not kept, and the file is as before.
func (l *RecordLog) Append(recs ...Record) error {
	all := append(l.recs, recs...)
	if err := WriteRecords(l.path, all); err != nil {
		return err
	}
	l.recs = all
	return nil
}

// Records returns the rows so far. They must not be modified.
func (l *RecordLog) Records() []Record { return l.recs }

// Path returns the file's path.
func (l *RecordLog) Path() string { return l.path }
