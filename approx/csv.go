package approx

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
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

// WriteRecords writes the header and one line per record to w. Fields are
// quoted as RFC 4180 requires. To a file, go through
// data.WriteFileAtomic, so that a crash leaves the previous file or the
// new one, never part of one.
func WriteRecords(w io.Writer, recs []Record) error {
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
