package data

import (
	"bytes"
	"errors"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// FuzzReadCSV checks that ReadCSV never panics, that every set it accepts
// passes Validate with the shape the options ask for, and that writing an
// accepted set and reading it back gives the same values. The seed corpus
// is in testdata/fuzz/FuzzReadCSV.
func FuzzReadCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte, inputs, classes, targets, skip int) {
		opt := CSVOptions{Inputs: inputs, Classes: classes, Targets: targets, Skip: skip}
		s, err := ReadCSV(bytes.NewReader(in), opt)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && (pe.Line < 0 || pe.Column < 0 || pe.Err == nil) {
				t.Fatalf("malformed ParseError %#v", pe)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted set does not validate: %v", err)
		}
		wantT := targets
		if classes > 0 {
			wantT = 1
		}
		if s.Classes != classes || s.TargetDim() != wantT || (inputs > 0 && s.InputDim() != inputs) {
			t.Fatalf("shape %d×(%d+%d), %d classes for options %+v", s.Len(), s.InputDim(), s.TargetDim(), s.Classes, opt)
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, s); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(&buf, CSVOptions{Inputs: s.InputDim(), Classes: classes, Targets: targets})
		if err != nil {
			t.Fatalf("written set does not read back: %v", err)
		}
		if !mat.Equal(back.X, s.X) || !mat.Equal(back.Y, s.Y) {
			t.Fatal("round trip changed the values")
		}
	})
}
