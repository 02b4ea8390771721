// Package openblas switches gonum's BLAS, and with it every matrix product
// in curvkit, to OpenBLAS through cgo, when built with the openblas tag:
//
//	apt-get install libopenblas-dev   # Debian; any OpenBLAS with cblas.h works
//	go test -tags openblas -bench . ./curvature/
//
// and, in a program, a blank import:
//
//	import _ "github.com/curvkit/curvkit/curvature/openblas"
//
// Without the tag the package is empty and curvkit's own kernels (Go
// assembly, falling back to gonum's pure-Go BLAS) stay in use, so the
// default build needs no C toolchain. On the products of curvkit's
// benchmarks, on one thread of an AVX-512 core, those kernels took less
// time than OpenBLAS on every product but the per-sample gradients, which
// took 20–27% less with OpenBLAS (docs/benchmarks.md). OpenBLAS is meant
// for CPUs without AVX2, where curvkit falls back to gonum's Go BLAS,
// which ran 4–8 times slower than its kernels on those products.
//
// OpenBLAS picks its kernels by detecting the CPU. Where detection fails
// (Debian's 0.3.21 does not recognise some recent Xeons and falls back to
// slow generic kernels), name the core type in the environment, e.g.
// OPENBLAS_CORETYPE=SkylakeX; OPENBLAS_NUM_THREADS sets its threads.
package openblas
