package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Record is one observation of the tidy comparison table of curvature
// approximations: one value of one metric of one approximation of one
// matrix at one step. Index numbers the values of a metric that has
// several, as the k-th largest eigenvalue (1, 2, …), and is 0 for a metric
// with one value. The matrix's own values (its eigenvalues, the damping of
// the solves) have the approximation "exact".
type Record struct {
	Step          int
	Matrix        string // e.g. "ggn", "fisher", "hessian"
	Approximation string // e.g. "kfac", "diagonal", or "exact"
	Metric        string // e.g. "rel_frobenius", "eigenvalue"
	Index         int
	Value         float64
}

// RecordHeader is the first line of a records file.
var RecordHeader = []string{"step", "matrix", "approximation", "metric", "index", "value"}

// WriteRecords writes RecordHeader and one line per record to w, quoting
// as RFC 4180 requires, every value with the fewest digits that parse back
// to the same float64 (NaN and ±Inf as NaN, +Inf and -Inf). pandas reads
// the file with pd.read_csv(path). To a file, go through WriteFileAtomic.
func WriteRecords(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RecordHeader); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	row := make([]string, len(RecordHeader))
	for i, r := range recs {
		if r.Metric == "" {
			return fmt.Errorf("data: record %d has no metric name", i)
		}
		if r.Index < 0 {
			return fmt.Errorf("data: record %d has index %d, want ≥ 0", i, r.Index)
		}
		row[0], row[1], row[2], row[3] = strconv.Itoa(r.Step), r.Matrix, r.Approximation, r.Metric
		row[4], row[5] = strconv.Itoa(r.Index), strconv.FormatFloat(r.Value, 'g', -1, 64)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// ReadRecords reads a records file as WriteRecords writes it. It returns
// an error naming the line of a wrong header, a wrong number of fields, a
// step or index that is not an integer (or a negative index), an empty
// metric, or a value that is not a decimal number, NaN or ±Inf.
func ReadRecords(r io.Reader) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a header of another length is reported as such
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("data: empty records file, want the header %s", strings.Join(RecordHeader, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !slices.Equal(head, RecordHeader) {
		return nil, fmt.Errorf("data: records header %q, want %q", strings.Join(head, ","), strings.Join(RecordHeader, ","))
	}
	cr.FieldsPerRecord = len(RecordHeader)
	var recs []Record
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rec, err := parseRecord(row)
		if err != nil {
			return nil, fmt.Errorf("data: line %d: %w", line, err)
		}
		recs = append(recs, rec)
	}
}

// parseRecord parses one row of a records file.
func parseRecord(row []string) (Record, error) {
	step, err := strconv.Atoi(row[0])
	if err != nil {
		return Record{}, fmt.Errorf("step %q is not an integer", row[0])
	}
	if row[3] == "" {
		return Record{}, errors.New("empty metric name")
	}
	index, err := strconv.Atoi(row[4])
	if err != nil || index < 0 {
		return Record{}, fmt.Errorf("index %q is not an integer ≥ 0", row[4])
	}
	v, err := strconv.ParseFloat(row[5], 64)
	switch {
	case err != nil:
		return Record{}, fmt.Errorf("value %q is not a number", row[5])
	case goSyntax(row[5]):
		return Record{}, notDecimal(row[5])
	}
	return Record{Step: step, Matrix: row[1], Approximation: row[2], Metric: row[3], Index: index, Value: v}, nil
}
