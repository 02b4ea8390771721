package data

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestOneHot(t *testing.T) {
	y := mat.NewDense(4, 1, []float64{2, 0, 1, 2})
	want := mat.NewDense(4, 3, []float64{
		0, 0, 1,
		1, 0, 0,
		0, 1, 0,
		0, 0, 1,
	})
	var dst mat.Dense
	OneHot(&dst, y, 3)
	if !mat.Equal(&dst, want) {
		t.Errorf("OneHot = %v", mat.Formatted(&dst))
	}
	// A sized destination is overwritten, stale values included.
	reused := mat.NewDense(4, 3, []float64{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	OneHot(reused, y, 3)
	if !mat.Equal(reused, want) {
		t.Errorf("OneHot into a used matrix = %v", mat.Formatted(reused))
	}

	for _, tc := range []struct {
		name    string
		dst     *mat.Dense
		y       *mat.Dense
		classes int
		msg     string
	}{
		{name: "two columns", dst: &mat.Dense{}, y: mat.NewDense(2, 2, nil), classes: 2, msg: "2 columns, want 1"},
		{name: "no classes", dst: &mat.Dense{}, y: mat.NewDense(2, 1, nil), classes: 0, msg: "with 0 classes"},
		{name: "wrong dst", dst: mat.NewDense(2, 2, nil), y: mat.NewDense(2, 1, nil), classes: 3, msg: "destination is 2×2, want 2×3"},
		{name: "label range", dst: &mat.Dense{}, y: mat.NewDense(2, 1, []float64{0, 3}), classes: 3, msg: "row 1: class label 3 out of range"},
		{name: "fractional", dst: &mat.Dense{}, y: mat.NewDense(1, 1, []float64{0.5}), classes: 3, msg: "not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r, _ := recover().(string)
				if !strings.HasPrefix(r, "data: ") || !strings.Contains(r, tc.msg) {
					t.Errorf("panic %q, want %q", r, tc.msg)
				}
			}()
			OneHot(tc.dst, tc.y, tc.classes)
		})
	}
}

func TestStandardize(t *testing.T) {
	// Column 0 varies, column 1 is constant, column 2 is large with a small
	// spread, where a one-pass variance would lose digits.
	trainX := mat.NewDense(4, 3, []float64{
		1, 0.1, 1e8 + 1,
		2, 0.1, 1e8 + 2,
		3, 0.1, 1e8 + 3,
		6, 0.1, 1e8 + 6,
	})
	train := &Set{X: mat.DenseCopyOf(trainX), Y: mat.NewDense(4, 1, []float64{1, 2, 3, 4})}
	test := &Set{X: mat.NewDense(1, 3, []float64{4, 5, 1e8}), Y: mat.NewDense(1, 1, []float64{7})}
	s := Standardize(train, test)

	// Reference statistics: gonum's stat, whose PopMeanStdDev uses 1/N.
	for j := range 3 {
		col := mat.Col(nil, j, trainX)
		mean, std := stat.PopMeanStdDev(col, nil)
		if j == 1 {
			std = 1 // constant column: centred only
		}
		if math.Abs(s.Mean[j]-mean) > 1e-15*math.Abs(mean) || math.Abs(s.Scale[j]-std) > 1e-12*std {
			t.Errorf("column %d: mean %v scale %v, want %v %v", j, s.Mean[j], s.Scale[j], mean, std)
		}
	}
	// Columns 0 and 2 are 0 and 1e8 plus (1, 2, 3, 6): mean 3, population
	// std sqrt((4+1+0+9)/4) = sqrt(3.5).
	sd := math.Sqrt(3.5)
	want := mat.NewDense(4, 3, []float64{
		-2 / sd, 0, -2 / sd,
		-1 / sd, 0, -1 / sd,
		0, 0, 0,
		3 / sd, 0, 3 / sd,
	})
	if !mat.EqualApprox(train.X, want, 1e-9) {
		t.Errorf("standardised train = %v", mat.Formatted(train.X))
	}
	// The test set uses the training statistics.
	wantTest := mat.NewDense(1, 3, []float64{1 / sd, 5 - 0.1, -3 / sd})
	if !mat.EqualApprox(test.X, wantTest, 1e-9) {
		t.Errorf("standardised test = %v, want %v", mat.Formatted(test.X), mat.Formatted(wantTest))
	}
	if train.Y.At(3, 0) != 4 || test.Y.At(0, 0) != 7 {
		t.Error("Standardize changed the targets")
	}
	if Standardize(&Set{X: mat.DenseCopyOf(trainX)}, nil) == nil {
		t.Error("nil test set")
	}
	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, "fitted to 3 columns, given 2") {
			t.Errorf("panic %q", r)
		}
	}()
	s.Transform(mat.NewDense(1, 2, nil))
}
