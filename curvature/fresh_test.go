package curvature

import (
	"runtime"
	"testing"
)

func TestPlugFor(t *testing.T) {
	for _, c := range []struct {
		size, free, plug uint64
		fresh            bool
	}{
		{plugFrom, 1 << 20, 1 << 20, true},        // the free pages plugged
		{plugFrom - 8, 1 << 20, 0, false},         // a small result: zeroing it costs little
		{plugFrom, 0, 0, true},                    // nothing free: the tail is fresh
		{5 << 30, 5<<30/4 - 1, 5<<30/4 - 1, true}, // free pages a quarter of the result, less a byte
		{5 << 30, 5 << 30 / 4, 0, false},          // a quarter: the plug would cost as much as it saves
		{5 << 30, 6 << 30, 0, false},              // an earlier result's pages free: reused
	} {
		if plug, fresh := plugFor(c.size, c.free); plug != c.plug || fresh != c.fresh {
			t.Errorf("plugFor(%d, %d) = %d, %t, want %d, %t", c.size, c.free, plug, fresh, c.plug, c.fresh)
		}
	}
}

// TestNewResult checks that a result is a zero n×n matrix, on the heap's
// free pages or after a plug, and that heapFree counts the pages a
// collection frees.
func TestNewResult(t *testing.T) {
	var garbage [][]float64
	for range 64 {
		garbage = append(garbage, make([]float64, 1<<14))
	}
	garbage[0][0] = 1
	before := heapFree()
	garbage = nil
	runtime.GC()
	if after := heapFree(); after < before+64<<17 {
		t.Errorf("heapFree: %d bytes before dropping 8 MiB and collecting, %d after", before, after)
	}
	for _, n := range []int{1, 37, 5793} { // 5793² floats: 256 MiB, plugged
		m := newResult(n, pool{workers: 2})
		raw := m.RawSymmetric()
		if raw.N != n || raw.Stride != n || len(raw.Data) != n*n {
			t.Fatalf("newResult(%d): order %d, stride %d, %d values", n, raw.N, raw.Stride, len(raw.Data))
		}
		for i, v := range raw.Data {
			if v != 0 {
				t.Fatalf("newResult(%d): entry %d is %v", n, i, v)
			}
		}
	}
}

// TestPrefault runs prefault over slices of every alignment and length
// around a page, between sentinels: x stays zero and the values either
// side keep theirs.
func TestPrefault(t *testing.T) {
	buf := make([]float64, 4*512)
	for _, lo := range []int{1, 7, 511, 512, 513} {
		for _, n := range []int{0, 1, 511, 512, 513, 1024, 1500} {
			for i := range buf {
				buf[i] = -1
			}
			x := buf[lo : lo+n]
			clear(x)
			prefault(x)
			for i, v := range buf {
				want := -1.0
				if i >= lo && i < lo+n {
					want = 0
				}
				if v != want {
					t.Fatalf("prefault(buf[%d:%d]): buf[%d] = %v, want %v", lo, lo+n, i, v, want)
				}
			}
		}
	}
}
