package data

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// epochBatches runs one epoch of b and returns the sample ids (column 0 of
// seqSet) of each batch, checking every copied row against the set.
func epochBatches(t *testing.T, b *Batches, s *Set) [][]int {
	t.Helper()
	var out [][]int
	for b.Next() {
		x, y := b.X(), b.Y()
		r, _ := x.Dims()
		if ry, _ := y.Dims(); ry != r || len(b.Indices()) != r {
			t.Fatalf("batch shapes disagree: X %d rows, Y %d rows, %d indices", r, ry, len(b.Indices()))
		}
		ids := make([]int, r)
		for k, i := range b.Indices() {
			if !slices.Equal(x.RawRowView(k), s.Input(i)) || !slices.Equal(y.RawRowView(k), s.Target(i)) {
				t.Fatalf("batch row %d is not sample %d", k, i)
			}
			ids[k] = int(x.At(k, 0))
		}
		out = append(out, ids)
	}
	if b.X() != nil || b.Y() != nil || b.Indices() != nil {
		t.Error("batch still visible after the end of the epoch")
	}
	return out
}

func TestBatches(t *testing.T) {
	s := seqSet(10, 3)
	for _, tc := range []struct {
		name     string
		size     int
		dropLast bool
		shuffle  bool
		sizes    []int // batch sizes of an epoch
	}{
		{name: "partial last", size: 4, shuffle: true, sizes: []int{4, 4, 2}},
		{name: "drop last", size: 4, dropLast: true, shuffle: true, sizes: []int{4, 4}},
		{name: "exact", size: 5, shuffle: true, sizes: []int{5, 5}},
		{name: "exact drop last", size: 5, dropLast: true, shuffle: true, sizes: []int{5, 5}},
		{name: "one", size: 1, shuffle: true, sizes: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{name: "larger than set", size: 64, shuffle: true, sizes: []int{10}},
		{name: "larger than set, drop last", size: 64, dropLast: true, shuffle: true, sizes: nil},
		{name: "in order", size: 3, sizes: []int{3, 3, 3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rng *rand.Rand
			if tc.shuffle {
				rng = rand.New(rand.NewPCG(1, 1))
			}
			b, err := NewBatches(s, tc.size, rng)
			if err != nil {
				t.Fatal(err)
			}
			b.DropLast = tc.dropLast
			if b.PerEpoch() != len(tc.sizes) {
				t.Errorf("PerEpoch = %d, want %d", b.PerEpoch(), len(tc.sizes))
			}
			var orders [][]int
			for epoch := range 3 {
				var ids, sizes []int
				for _, batch := range epochBatches(t, b, s) {
					sizes = append(sizes, len(batch))
					ids = append(ids, batch...)
				}
				if b.Epoch() != epoch+1 {
					t.Errorf("Epoch = %d after %d epochs", b.Epoch(), epoch+1)
				}
				if !slices.Equal(sizes, tc.sizes) {
					t.Fatalf("epoch %d batch sizes %v, want %v", epoch, sizes, tc.sizes)
				}
				// No sample twice; all of them unless the last batch was dropped.
				seen := make(map[int]bool)
				for _, id := range ids {
					if seen[id] {
						t.Fatalf("epoch %d visits sample %d twice", epoch, id)
					}
					seen[id] = true
				}
				if !tc.dropLast && len(seen) != s.Len() {
					t.Fatalf("epoch %d visits %d of %d samples", epoch, len(seen), s.Len())
				}
				orders = append(orders, ids)
			}
			if !tc.shuffle && !slices.IsSorted(orders[0]) {
				t.Errorf("nil rng gave order %v", orders[0])
			}
			// With 10! orders, two shuffled epochs agree by chance with
			// probability 1/10!; check that epochs are reshuffled.
			if tc.shuffle && tc.size < s.Len() && slices.Equal(orders[0], orders[1]) && slices.Equal(orders[1], orders[2]) {
				t.Error("epochs are not reshuffled")
			}
		})
	}
}

func TestBatchesReproducible(t *testing.T) {
	s := seqSet(23, 4)
	run := func(seed uint64) [][]int {
		b, err := NewBatches(s, 5, rand.New(rand.NewPCG(seed, 7)))
		if err != nil {
			t.Fatal(err)
		}
		var all [][]int
		for range 4 {
			all = append(all, epochBatches(t, b, s)...)
		}
		return all
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Error("same seed gave different batches")
	}
	if slices.EqualFunc(a, c, slices.Equal) {
		t.Error("different seeds gave the same batches")
	}
}

func TestBatchesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  *Set
		size int
		msg  string
	}{
		{name: "zero size", set: seqSet(3, 2), size: 0, msg: "batch size 0 not positive"},
		{name: "negative size", set: seqSet(3, 2), size: -2, msg: "batch size -2 not positive"},
		{name: "nil set", set: nil, size: 2, msg: "nil set"},
		{name: "empty set", set: &Set{}, size: 2, msg: "empty set"},
		{name: "invalid set", set: seqSet(3, 2).Subset([]int{}), size: 2, msg: "empty set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewBatches(tc.set, tc.size, nil); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %q", err, tc.msg)
			}
		})
	}
	bad := seqSet(3, 2)
	bad.Y.Set(1, 0, 5)
	if _, err := NewBatches(bad, 2, nil); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("err = %v, want a label error", err)
	}
}

func TestBatchesNoAlloc(t *testing.T) {
	s := seqSet(50, 5)
	b, err := NewBatches(s, 8, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		for b.Next() {
			_ = b.X()
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per epoch, want 0", allocs)
	}
}

func BenchmarkBatchesDigits(b *testing.B) { benchmarkBatches(b, 128) }

func benchmarkBatches(b *testing.B, size int) {
	s, err := Digits()
	if err != nil {
		b.Fatal(err)
	}
	it, err := NewBatches(s, size, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for it.Next() {
		}
	}
}
