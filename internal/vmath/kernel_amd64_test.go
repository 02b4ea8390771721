//go:build amd64 && !purego

package vmath

import "testing"

// levels are the implementations this CPU can run, fastest first; each
// sets the kernel selection and returns a function that restores it.
func levels() (names []string, set []func() func()) {
	a512, a2 := useAVX512, useAVX2
	pick := func(avx512, avx2 bool) func() func() {
		return func() func() {
			useAVX512, useAVX2 = avx512, avx2
			return func() { useAVX512, useAVX2 = a512, a2 }
		}
	}
	if a512 {
		names, set = append(names, "AVX-512"), append(set, pick(true, a2))
	}
	if a2 {
		names, set = append(names, "AVX2"), append(set, pick(false, true))
	}
	return append(names, "Go"), append(set, pick(false, false))
}

// forEachKernel runs f under each implementation this CPU can run.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	names, set := levels()
	for i, name := range names {
		restore := set[i]()
		t.Run(name, f)
		restore()
	}
}

// benchEachKernel is forEachKernel for a benchmark.
func benchEachKernel(b *testing.B, f func(b *testing.B)) {
	names, set := levels()
	for i, name := range names {
		restore := set[i]()
		b.Run(name, f)
		restore()
	}
}
