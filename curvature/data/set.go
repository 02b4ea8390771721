package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Set is a data set of N samples held as two matrices whose rows are the
// samples: X (N×d) holds the inputs and Y (N×T) the targets.
//
// For classification Classes > 0, T = 1 and Y[i, 0] holds the class index of
// sample i as a float in 0, 1, …, Classes−1. For regression and multi-label
// targets Classes = 0 and Y holds the T output values of each sample.
type Set struct {
	X *mat.Dense
	Y *mat.Dense

	// Classes is the number of classes of a classification set, 0 otherwise.
	Classes int

	// Names optionally holds the class names, indexed by label; it is nil or
	// has length Classes.
	Names []string
}

// NewSet returns the set with inputs x, targets y and the given number of
// classes (0 for regression), after checking it with Validate. The matrices
// are used, not copied.
func NewSet(x, y *mat.Dense, classes int) (*Set, error) {
	s := &Set{X: x, Y: y, Classes: classes}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Len returns the number of samples N.
func (s *Set) Len() int {
	if s.X == nil || s.X.IsEmpty() {
		return 0
	}
	r, _ := s.X.Dims()
	return r
}

// InputDim returns d, the number of columns of X.
func (s *Set) InputDim() int {
	if s.X == nil || s.X.IsEmpty() {
		return 0
	}
	_, c := s.X.Dims()
	return c
}

// TargetDim returns T, the number of columns of Y: 1 for classification.
func (s *Set) TargetDim() int {
	if s.Y == nil || s.Y.IsEmpty() {
		return 0
	}
	_, c := s.Y.Dims()
	return c
}

// Input returns the inputs of sample i. The slice is a view of X's row:
// writing to it changes the set.
func (s *Set) Input(i int) []float64 { return s.X.RawRowView(i) }

// Target returns the targets of sample i as a view of Y's row.
func (s *Set) Target(i int) []float64 { return s.Y.RawRowView(i) }

// Label returns the class index of sample i of a classification set.
func (s *Set) Label(i int) int { return int(s.Y.At(i, 0)) }

// ClassCounts returns the number of samples of each class of a valid
// classification set, and nil for a regression set.
func (s *Set) ClassCounts() []int {
	if s.Classes <= 0 {
		return nil
	}
	c := make([]int, s.Classes)
	for i := range s.Len() {
		c[s.Label(i)]++
	}
	return c
}

// Subset returns a new set holding copies of the rows idx of s, in that
// order; indices may repeat. Classes and Names are shared. An empty idx gives
// a set of length 0 (which Validate rejects). Subset panics if an index is out
// of range.
func (s *Set) Subset(idx []int) *Set {
	sub := &Set{Classes: s.Classes, Names: s.Names, X: &mat.Dense{}, Y: &mat.Dense{}}
	if len(idx) == 0 {
		return sub
	}
	n, d, t := s.Len(), s.InputDim(), s.TargetDim()
	sub.X = mat.NewDense(len(idx), d, nil)
	sub.Y = mat.NewDense(len(idx), t, nil)
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: subset index %d out of range [0, %d)", i, n))
		}
		copy(sub.X.RawRowView(k), s.X.RawRowView(i))
		copy(sub.Y.RawRowView(k), s.Y.RawRowView(i))
	}
	return sub
}

// Split partitions s into a training set of round(frac·N) samples and a test
// set of the rest, both copies. The samples are drawn in the random order
// given by rng, or kept in order (train first) when rng is nil. It returns an
// error unless 0 < frac < 1 and both parts are non-empty.
func (s *Set) Split(frac float64, rng *rand.Rand) (train, test *Set, err error) {
	n := s.Len()
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("data: split fraction %v not in (0, 1)", frac)
	}
	k := int(math.Round(frac * float64(n)))
	if k == 0 || k == n {
		return nil, nil, fmt.Errorf("data: split fraction %v of %d samples leaves an empty part", frac, n)
	}
	var perm []int
	if rng != nil {
		perm = rng.Perm(n)
	} else {
		perm = make([]int, n)
		for i := range perm {
			perm[i] = i
		}
	}
	return s.Subset(perm[:k]), s.Subset(perm[k:]), nil
}

// Validate checks that s is a usable data set: X and Y non-empty with the
// same number of rows, every value finite, and for classification
// (Classes > 0) a single target column of integer labels in [0, Classes) and
// Names nil or of length Classes. Errors name the offending row and column
// (0-based, as in X.At).
func (s *Set) Validate() error {
	switch {
	case s == nil:
		return errors.New("data: nil set")
	case s.X == nil || s.X.IsEmpty():
		return errors.New("data: empty set: no inputs")
	case s.Y == nil || s.Y.IsEmpty():
		return errors.New("data: empty set: no targets")
	case s.Classes < 0:
		return fmt.Errorf("data: negative number of classes %d", s.Classes)
	}
	n, _ := s.X.Dims()
	m, t := s.Y.Dims()
	if n != m {
		return fmt.Errorf("data: X has %d rows but Y has %d", n, m)
	}
	if s.Classes > 0 && t != 1 {
		return fmt.Errorf("data: classification set has %d target columns, want 1", t)
	}
	if s.Names != nil && len(s.Names) != s.Classes {
		return fmt.Errorf("data: %d class names for %d classes", len(s.Names), s.Classes)
	}
	for i := range n {
		for j, v := range s.X.RawRowView(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("data: X[%d, %d] = %v: not finite", i, j, v)
			}
		}
		for j, v := range s.Y.RawRowView(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("data: Y[%d, %d] = %v: not finite", i, j, v)
			}
			if s.Classes > 0 {
				if err := checkLabel(v, s.Classes); err != nil {
					return fmt.Errorf("data: Y[%d, %d]: %w", i, j, err)
				}
			}
		}
	}
	return nil
}

// checkLabel reports whether v is an integer class index in [0, classes).
func checkLabel(v float64, classes int) error {
	if v != math.Trunc(v) {
		return fmt.Errorf("class label %v is not an integer", v)
	}
	if v < 0 || v >= float64(classes) {
		return fmt.Errorf("class label %v out of range [0, %d)", v, classes)
	}
	return nil
}
