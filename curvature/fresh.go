package curvature

import (
	"runtime"
	"runtime/metrics"

	"gonum.org/v1/gonum/mat"
)

// plugFrom is the size of a result, in bytes, from which newResult plugs
// the heap's free pages first.
const plugFrom = 256 << 20

// newResult returns a new n×n matrix, zero, for a dense result.
//
// The Go runtime zeroes a large allocation whole when any of it falls on
// pages the heap used before, and an allocation of gigabytes starts at
// the heap's free tail, which after a garbage collection has usually held
// something: 26,122² floats were then zeroed in 2.8–3.1 s, every page of
// both triangles touched, where fresh pages cost only the first touch of
// the upper triangle the build writes (1.2 s). Allocating a plug the size
// of the heap's free pages first puts the result on fresh pages: the plug
// takes the free tail (and is zeroed, if at all, at the cost of those
// pages only) and is garbage at once. Where the free pages are a large
// part of the result (an earlier result dropped), the plug would cost as
// much as it saves and is not made: building into a kept matrix with
// Model.DenseTo avoids both costs. On fresh pages the pool's workers then
// have the system provide the upper triangle's pages (prefault) before
// the build: faults taken one at a time inside the products cost 0.4 s
// more at 26,122² (the system's zeroing of each page evicts the
// products' operands).
func newResult(n int, p pool) *mat.SymDense {
	plug, fresh := plugFor(uint64(n)*uint64(n)*8, heapFree())
	var b []byte
	if plug > 0 {
		b = make([]byte, plug)
	}
	m := mat.NewSymDense(n, make([]float64, n*n))
	runtime.KeepAlive(b)
	if fresh {
		prefaultUpper(m, p)
	}
	return m
}

// prefaultUpper prefaults the pages of m's upper triangle, in tasks of 64
// rows.
func prefaultUpper(m *mat.SymDense, p pool) {
	raw := m.RawSymmetric()
	const rows = 64
	p.run((raw.N+rows-1)/rows, func(_, t int) {
		for i := t * rows; i < min(t*rows+rows, raw.N); i++ {
			prefault(raw.Data[i*raw.Stride+i : i*raw.Stride+raw.N])
		}
	})
}

// plugFor returns the size of the plug newResult allocates before a
// result of size bytes when the heap has free bytes of free pages, and
// whether the result then lies on fresh pages: for a result of plugFrom
// bytes or more, when the free pages are less than a quarter of it, a
// plug of them all (none if there are none), on fresh pages; otherwise
// no plug, and pages that may have been used.
func plugFor(size, free uint64) (plug uint64, fresh bool) {
	if size < plugFrom || free >= size/4 {
		return 0, false
	}
	return free, true
}

// heapFree returns the bytes of the heap's free pages, whether or not
// they have been returned to the operating system.
func heapFree() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	var free uint64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			free += v.Value.Uint64()
		}
	}
	return free
}

// touch writes a zero, the value it holds, to every 4 KiB page under x.
func touch(x []float64) {
	for j := 0; j < len(x); j += 512 {
		x[j] = 0
	}
	if len(x) > 0 {
		x[len(x)-1] = 0
	}
}
