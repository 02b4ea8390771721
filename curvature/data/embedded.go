package data

import (
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed digits.csv.gz
var digitsCSV []byte

//go:embed iris.csv
var irisCSV []byte

// Digits returns the 1,797 8×8 handwritten digits of UCI's "Optical
// Recognition of Handwritten Digits" (E. Alpaydin and C. Kaynak, CC BY 4.0,
// as shipped by scikit-learn): 64 inputs per sample, the pixel counts 0…16
// of the image rows one after the other, divided by 16 so that they lie in
// [0, 1], and 10 classes, the digits 0…9. Each call returns a new copy.
func Digits() (*Set, error) {
	s, err := DigitsRaw()
	if err != nil {
		return nil, err
	}
	s.X.Scale(1.0/16, s.X)
	return s, nil
}

// DigitsRaw returns the digits of Digits with their unscaled pixel counts,
// integers in 0…16.
func DigitsRaw() (*Set, error) {
	s, err := ReadCSV(bytes.NewReader(digitsCSV), CSVOptions{Inputs: 64, Classes: 10})
	if err != nil {
		return nil, fmt.Errorf("data: embedded digits: %w", err)
	}
	s.Names = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return s, nil
}

// Iris returns R. A. Fisher's iris data: 150 flowers with 4 inputs (sepal
// length, sepal width, petal length, petal width, in cm) and 3 classes of 50
// each, named setosa, versicolor and virginica. Each call returns a new copy.
func Iris() (*Set, error) {
	// The file's first line is "samples,inputs,name0,name1,…".
	head, _, _ := bytes.Cut(irisCSV, []byte("\n"))
	f := strings.Split(strings.TrimSpace(string(head)), ",")
	if len(f) < 3 {
		return nil, fmt.Errorf("data: embedded iris: bad header %q", head)
	}
	n, err1 := strconv.Atoi(f[0])
	d, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("data: embedded iris: bad header %q", head)
	}
	names := f[2:]
	s, err := ReadCSV(bytes.NewReader(irisCSV), CSVOptions{Inputs: d, Classes: len(names), Skip: 1})
	if err != nil {
		return nil, fmt.Errorf("data: embedded iris: %w", err)
	}
	if s.Len() != n {
		return nil, fmt.Errorf("data: embedded iris: header says %d samples, read %d", n, s.Len())
	}
	s.Names = names
	return s, nil
}
