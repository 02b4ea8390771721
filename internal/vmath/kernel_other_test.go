//go:build !amd64 || purego

package vmath

// eachKernel calls run with the name of the one implementation there is.
func eachKernel(run func(name string)) { run("Go") }

// usingKernel reports whether an assembly kernel is selected: never here.
func usingKernel() bool { return false }
