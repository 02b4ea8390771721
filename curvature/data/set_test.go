package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// seqSet returns a classification set of n samples whose row i has inputs
// (i, 10i) and label i mod classes, so every row identifies its sample.
func seqSet(n, classes int) *Set {
	x := mat.NewDense(n, 2, nil)
	y := mat.NewDense(n, 1, nil)
	for i := range n {
		x.Set(i, 0, float64(i))
		x.Set(i, 1, float64(10*i))
		y.Set(i, 0, float64(i%classes))
	}
	return &Set{X: x, Y: y, Classes: classes}
}

func TestSetDims(t *testing.T) {
	s := seqSet(7, 3)
	if s.Len() != 7 || s.InputDim() != 2 || s.TargetDim() != 1 {
		t.Fatalf("dims = %d, %d, %d, want 7, 2, 1", s.Len(), s.InputDim(), s.TargetDim())
	}
	if got := s.Input(4); !slices.Equal(got, []float64{4, 40}) {
		t.Errorf("Input(4) = %v", got)
	}
	if s.Label(5) != 2 || s.Target(5)[0] != 2 {
		t.Errorf("Label(5) = %d, Target(5) = %v, want 2", s.Label(5), s.Target(5))
	}
	// 7 samples with labels i mod 3: 0,3,6 / 1,4 / 2,5.
	if got := s.ClassCounts(); !slices.Equal(got, []int{3, 2, 2}) {
		t.Errorf("ClassCounts = %v, want [3 2 2]", got)
	}
	var empty Set
	if empty.Len() != 0 || empty.InputDim() != 0 || empty.TargetDim() != 0 {
		t.Error("zero Set has non-zero dims")
	}
}

func TestSubset(t *testing.T) {
	s := seqSet(6, 2)
	s.Names = []string{"a", "b"}
	idx := []int{4, 1, 4}
	sub := s.Subset(idx)
	if sub.Len() != 3 || sub.Classes != 2 || !slices.Equal(sub.Names, s.Names) {
		t.Fatalf("subset has %d rows, %d classes, names %v", sub.Len(), sub.Classes, sub.Names)
	}
	for k, i := range idx {
		if !slices.Equal(sub.Input(k), s.Input(i)) || !slices.Equal(sub.Target(k), s.Target(i)) {
			t.Errorf("row %d = %v %v, want row %d of s", k, sub.Input(k), sub.Target(k), i)
		}
	}
	sub.X.Set(0, 0, -1)
	if s.X.At(4, 0) != 4 {
		t.Error("Subset shares storage with the set")
	}
	if e := s.Subset(nil); e.Len() != 0 || e.Validate() == nil {
		t.Error("empty subset should have length 0 and fail Validate")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "out of range") {
			t.Errorf("panic = %v, want out of range", r)
		}
	}()
	s.Subset([]int{6})
}

func TestSplit(t *testing.T) {
	s := seqSet(10, 3)
	for _, tc := range []struct {
		name     string
		frac     float64
		rng      *rand.Rand
		nTrain   int
		inOrder  bool
		errWords string
	}{
		{name: "shuffled", frac: 0.7, rng: rand.New(rand.NewPCG(1, 1)), nTrain: 7},
		{name: "rounded", frac: 0.25, rng: rand.New(rand.NewPCG(1, 1)), nTrain: 3}, // round(2.5) = 3
		{name: "ordered", frac: 0.5, nTrain: 5, inOrder: true},
		{name: "zero", frac: 0, errWords: "not in (0, 1)"},
		{name: "one", frac: 1, errWords: "not in (0, 1)"},
		{name: "NaN", frac: math.NaN(), errWords: "not in (0, 1)"},
		{name: "empty test", frac: 0.97, errWords: "empty part"},
		{name: "empty train", frac: 0.01, errWords: "empty part"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			train, test, err := s.Split(tc.frac, tc.rng)
			if tc.errWords != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errWords) {
					t.Fatalf("err = %v, want %q", err, tc.errWords)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if train.Len() != tc.nTrain || test.Len() != 10-tc.nTrain {
				t.Fatalf("sizes %d, %d, want %d, %d", train.Len(), test.Len(), tc.nTrain, 10-tc.nTrain)
			}
			// Row i of seqSet has X[i,0] = i: the parts must partition 0..9.
			var ids []int
			for _, p := range []*Set{train, test} {
				for i := range p.Len() {
					id := int(p.X.At(i, 0))
					ids = append(ids, id)
					if p.X.At(i, 1) != float64(10*id) || p.Label(i) != id%3 {
						t.Errorf("row of sample %d is corrupted", id)
					}
				}
			}
			ordered := slices.IsSorted(ids)
			slices.Sort(ids)
			for i, id := range ids {
				if id != i {
					t.Fatalf("parts are not a partition: %v", ids)
				}
			}
			if ordered != tc.inOrder {
				t.Errorf("in order = %v, want %v", ordered, tc.inOrder)
			}
		})
	}
	// Same seed, same split.
	a, _, _ := s.Split(0.5, rand.New(rand.NewPCG(3, 4)))
	b, _, _ := s.Split(0.5, rand.New(rand.NewPCG(3, 4)))
	if !mat.Equal(a.X, b.X) {
		t.Error("same seed gave different splits")
	}
}

func TestValidate(t *testing.T) {
	good := func() *Set { return seqSet(4, 3) }
	for _, tc := range []struct {
		name   string
		edit   func(s *Set) *Set
		errMsg string // "" for a valid set
	}{
		{name: "valid", edit: func(s *Set) *Set { return s }},
		{name: "valid names", edit: func(s *Set) *Set { s.Names = []string{"a", "b", "c"}; return s }},
		{name: "valid regression", edit: func(s *Set) *Set {
			s.Classes = 0
			s.Y = mat.NewDense(4, 2, []float64{-1.5, 2, 0, 0, 1e300, -1e-300, 3, 3})
			return s
		}},
		{name: "nil", edit: func(*Set) *Set { return nil }, errMsg: "nil set"},
		{name: "no inputs", edit: func(s *Set) *Set { s.X = nil; return s }, errMsg: "empty set: no inputs"},
		{name: "empty inputs", edit: func(s *Set) *Set { s.X = &mat.Dense{}; return s }, errMsg: "empty set: no inputs"},
		{name: "no targets", edit: func(s *Set) *Set { s.Y = nil; return s }, errMsg: "empty set: no targets"},
		{name: "negative classes", edit: func(s *Set) *Set { s.Classes = -1; return s }, errMsg: "negative number of classes"},
		{name: "row mismatch", edit: func(s *Set) *Set { s.Y = mat.NewDense(3, 1, nil); return s }, errMsg: "X has 4 rows but Y has 3"},
		{name: "two label columns", edit: func(s *Set) *Set { s.Y = mat.NewDense(4, 2, nil); return s }, errMsg: "2 target columns, want 1"},
		{name: "names", edit: func(s *Set) *Set { s.Names = []string{"a"}; return s }, errMsg: "1 class names for 3 classes"},
		{name: "NaN input", edit: func(s *Set) *Set { s.X.Set(2, 1, math.NaN()); return s }, errMsg: "X[2, 1] = NaN: not finite"},
		{name: "Inf input", edit: func(s *Set) *Set { s.X.Set(3, 0, math.Inf(-1)); return s }, errMsg: "X[3, 0] = -Inf: not finite"},
		{name: "Inf target", edit: func(s *Set) *Set { s.Classes = 0; s.Y.Set(1, 0, math.Inf(1)); return s }, errMsg: "Y[1, 0] = +Inf: not finite"},
		{name: "label too big", edit: func(s *Set) *Set { s.Y.Set(1, 0, 3); return s }, errMsg: "Y[1, 0]: class label 3 out of range [0, 3)"},
		{name: "negative label", edit: func(s *Set) *Set { s.Y.Set(0, 0, -1); return s }, errMsg: "Y[0, 0]: class label -1 out of range"},
		{name: "fractional label", edit: func(s *Set) *Set { s.Y.Set(2, 0, 1.5); return s }, errMsg: "Y[2, 0]: class label 1.5 is not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.edit(good()).Validate()
			switch {
			case tc.errMsg == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.errMsg)):
				t.Errorf("err = %v, want %q", err, tc.errMsg)
			}
		})
	}
	if _, err := NewSet(mat.NewDense(1, 1, nil), mat.NewDense(1, 1, []float64{2}), 2); err == nil {
		t.Error("NewSet accepted label 2 of 2 classes")
	}
	if s, err := NewSet(mat.NewDense(1, 1, nil), mat.NewDense(1, 1, []float64{1}), 2); err != nil || s.Len() != 1 {
		t.Errorf("NewSet = %v, %v", s, err)
	}
}

func TestClassCountsRegression(t *testing.T) {
	s := seqSet(3, 2)
	s.Classes = 0
	if got := s.ClassCounts(); got != nil {
		t.Errorf("ClassCounts of a regression set = %v, want nil", got)
	}
}
