package data

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func TestDigits(t *testing.T) {
	raw, err := DigitsRaw()
	if err != nil {
		t.Fatal(err)
	}
	scaled, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Set{raw, scaled} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.Len() != 1797 || s.InputDim() != 64 || s.TargetDim() != 1 || s.Classes != 10 || len(s.Names) != 10 {
			t.Fatalf("digits are %d×%d+%d with %d classes, %d names", s.Len(), s.InputDim(), s.TargetDim(), s.Classes, len(s.Names))
		}
		// zcat digits.csv.gz | awk -F, '{c[$NF]++} END {for (k in c) print k, c[k]}'
		if got := s.ClassCounts(); !slices.Equal(got, []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}) {
			t.Errorf("class counts %v", got)
		}
	}
	// zcat digits.csv.gz | awk -F, '{for (j = 1; j <= 64; j++) s += $j} END {print s}'
	if sum := mat.Sum(raw.X); sum != 561718 {
		t.Errorf("sum of pixel counts %v, want 561718", sum)
	}
	if lo, hi := mat.Min(raw.X), mat.Max(raw.X); lo != 0 || hi != 16 {
		t.Errorf("raw range [%v, %v], want [0, 16]", lo, hi)
	}
	for i := range raw.Len() {
		for _, v := range raw.Input(i) {
			if v != math.Trunc(v) {
				t.Fatalf("row %d: pixel count %v is not an integer", i, v)
			}
		}
	}
	if lo, hi := mat.Min(scaled.X), mat.Max(scaled.X); lo != 0 || hi != 1 {
		t.Errorf("scaled range [%v, %v], want [0, 1]", lo, hi)
	}
	var x16 mat.Dense
	x16.Scale(16, scaled.X)
	if !mat.Equal(&x16, raw.X) || !mat.Equal(scaled.Y, raw.Y) {
		t.Error("Digits is not DigitsRaw divided by 16")
	}
	// zcat digits.csv.gz | sed -n '1p;1797p'
	first := []float64{0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0}
	last := []float64{0, 0, 10, 14, 8, 1, 0, 0, 0, 2, 16, 14, 6, 1, 0, 0, 0, 0, 15, 15, 8, 15, 0, 0, 0, 0, 5, 16, 16, 10, 0, 0, 0, 0, 12, 15, 15, 12, 0, 0, 0, 4, 16, 6, 4, 16, 6, 0, 0, 8, 16, 10, 8, 16, 8, 0, 0, 1, 8, 12, 14, 12, 1, 0}
	if !slices.Equal(raw.Input(0), first) || raw.Label(0) != 0 || !slices.Equal(raw.Input(1796), last) || raw.Label(1796) != 8 {
		t.Error("first or last digit differs from the file")
	}
	// Each call returns its own copy.
	scaled.X.Set(0, 2, -1)
	if again, _ := Digits(); again.X.At(0, 2) != 5.0/16 {
		t.Error("Digits shares storage between calls")
	}
}

func TestIris(t *testing.T) {
	s, err := Iris()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 150 || s.InputDim() != 4 || s.Classes != 3 {
		t.Fatalf("iris is %d×%d with %d classes", s.Len(), s.InputDim(), s.Classes)
	}
	if !slices.Equal(s.Names, []string{"setosa", "versicolor", "virginica"}) {
		t.Errorf("names %q", s.Names)
	}
	if got := s.ClassCounts(); !slices.Equal(got, []int{50, 50, 50}) {
		t.Errorf("class counts %v, want 50 each", got)
	}
	// awk -F, 'NR > 1 {s += $j; min, max of $j}' iris.csv for j = 1..4.
	for j, want := range []struct{ sum, lo, hi float64 }{
		{876.5, 4.3, 7.9},
		{458.6, 2.0, 4.4},
		{563.7, 1.0, 6.9},
		{179.9, 0.1, 2.5},
	} {
		col := mat.Col(nil, j, s.X)
		if sum := floats.Sum(col); math.Abs(sum-want.sum) > 1e-9 {
			t.Errorf("column %d sums to %v, want %v", j, sum, want.sum)
		}
		if lo, hi := floats.Min(col), floats.Max(col); lo != want.lo || hi != want.hi {
			t.Errorf("column %d range [%v, %v], want [%v, %v]", j, lo, hi, want.lo, want.hi)
		}
	}
	// sed -n '2p;151p' iris.csv
	if !slices.Equal(s.Input(0), []float64{5.1, 3.5, 1.4, 0.2}) || s.Label(0) != 0 ||
		!slices.Equal(s.Input(149), []float64{5.9, 3.0, 5.1, 1.8}) || s.Label(149) != 2 {
		t.Error("first or last flower differs from the file")
	}
}

func BenchmarkDigits(b *testing.B) { benchmarkLoad(b, Digits) }
func BenchmarkIris(b *testing.B)   { benchmarkLoad(b, Iris) }

func benchmarkLoad(b *testing.B, load func() (*Set, error)) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load(); err != nil {
			b.Fatal(err)
		}
	}
}
