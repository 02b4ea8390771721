package data

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// OneHot stores in dst the one-hot encoding of the class labels in the
// N×1 matrix y: dst[i, c] is 1 if y[i, 0] = c and 0 otherwise. If dst is
// empty it is resized to N×classes; otherwise it must be N×classes.
//
// OneHot panics if the shapes do not match or a label is not an integer in
// [0, classes); the labels of a Set that passed Validate always are.
func OneHot(dst *mat.Dense, y mat.Matrix, classes int) {
	n, c := y.Dims()
	if c != 1 {
		panic(fmt.Sprintf("data: one-hot labels have %d columns, want 1", c))
	}
	if classes <= 0 {
		panic(fmt.Sprintf("data: one-hot with %d classes", classes))
	}
	if dst.IsEmpty() {
		dst.ReuseAs(n, classes)
	} else if r, k := dst.Dims(); r != n || k != classes {
		panic(fmt.Sprintf("data: one-hot destination is %d×%d, want %d×%d", r, k, n, classes))
	}
	dst.Zero()
	for i := range n {
		v := y.At(i, 0)
		if err := checkLabel(v, classes); err != nil {
			panic("data: one-hot row " + fmt.Sprint(i) + ": " + err.Error())
		}
		dst.Set(i, int(v), 1)
	}
}

// Standardizer maps each input column x_j to (x_j − Mean[j]) / Scale[j],
// with the mean and standard deviation of the data it was fitted to.
type Standardizer struct {
	// Mean holds the column means.
	Mean []float64
	// Scale holds the column standard deviations, computed with 1/N (as
	// scikit-learn's StandardScaler), or 1 for a constant column, which is
	// then only centred.
	Scale []float64
}

// Fit sets s's Mean and Scale to those of the columns of x.
func (s *Standardizer) Fit(x mat.Matrix) {
	n, d := x.Dims()
	s.Mean = make([]float64, d)
	s.Scale = make([]float64, d)
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, x)
		constant := true
		var sum float64
		for _, v := range col {
			sum += v
			constant = constant && v == col[0]
		}
		if constant {
			// Exact, so that a constant column maps to exact zeros.
			s.Mean[j], s.Scale[j] = col[0], 1
			continue
		}
		mean := sum / float64(n)
		var ss, c float64
		for _, v := range col {
			ss += (v - mean) * (v - mean)
			c += v - mean
		}
		// Corrected two-pass algorithm (Chan, Golub & LeVeque 1983).
		mean += c / float64(n)
		s.Mean[j] = mean
		s.Scale[j] = math.Sqrt((ss - c*c/float64(n)) / float64(n))
		if !(s.Scale[j] > 0) {
			s.Scale[j] = 1
		}
	}
}

// Transform standardises x in place. It panics if x's column count differs
// from the fitted one.
func (s *Standardizer) Transform(x *mat.Dense) {
	n, d := x.Dims()
	if d != len(s.Mean) {
		panic(fmt.Sprintf("data: standardizer fitted to %d columns, given %d", len(s.Mean), d))
	}
	for i := range n {
		row := x.RawRowView(i)
		for j := range row {
			row[j] = (row[j] - s.Mean[j]) / s.Scale[j]
		}
	}
}

// Standardize fits a Standardizer to train's inputs and applies it in place
// to the inputs of train and of test, if test is not nil, so that both are
// scaled with the training statistics only. Targets are left alone.
func Standardize(train, test *Set) *Standardizer {
	var s Standardizer
	s.Fit(train.X)
	s.Transform(train.X)
	if test != nil {
		s.Transform(test.X)
	}
	return &s
}
