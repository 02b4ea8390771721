//go:build amd64 && !purego

package vmath

// eachKernel calls run with the name of each implementation this CPU can
// run, fastest first, with that implementation selected.
func eachKernel(run func(name string)) {
	a512, a2 := useAVX512, useAVX2
	defer func() { useAVX512, useAVX2 = a512, a2 }()
	if a512 {
		run("AVX-512")
	}
	if a2 {
		useAVX512 = false
		run("AVX2")
	}
	useAVX512, useAVX2 = false, false
	run("Go")
}

// usingKernel reports whether an assembly kernel is selected.
func usingKernel() bool { return useAVX512 || useAVX2 }
