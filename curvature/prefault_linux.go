package curvature

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// prefault has the system provide the whole pages under x, zero as x is,
// in one call (madvise MADV_POPULATE_WRITE, Linux 5.14 and later), and
// touches the rest.
func prefault(x []float64) {
	const page = 4096
	if len(x) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(x))
	lead := (page - uintptr(p)%page) % page // bytes to the first page boundary
	size := uintptr(len(x)) * 8
	if size < lead+page {
		touch(x)
		return
	}
	whole := (size - lead) &^ (page - 1)
	if unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lead)), whole), unix.MADV_POPULATE_WRITE) != nil {
		touch(x)
		return
	}
	x[0], x[len(x)-1] = 0, 0 // the partial pages at either end
}
