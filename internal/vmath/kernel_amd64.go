//go:build amd64 && !purego

package vmath

import (
	"math"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the kernels of kernel_amd64.s: they need AVX2 and FMA
// (and an operating system that saves the YMM registers, which
// golang.org/x/sys/cpu checks).
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The kernels take any length: whole vectors of 4, then the last 1–3
// entries through masked loads and stores. dst may be x.

//go:noescape
func expAVX2(dst, x []float64)

//go:noescape
func tanhAVX2(dst, x []float64)

//go:noescape
func sigmoidAVX2(dst, x []float64)

//go:noescape
func softplusAVX2(dst, x []float64)

func exp(dst, x []float64) {
	if useAVX2 {
		expAVX2(dst, x)
		return
	}
	each(dst, x, exp1)
}

func tanh(dst, x []float64) {
	if useAVX2 {
		tanhAVX2(dst, x)
		return
	}
	each(dst, x, tanh1)
}

func sigmoid(dst, x []float64) {
	if useAVX2 {
		sigmoidAVX2(dst, x)
		return
	}
	each(dst, x, sigmoid1)
}

func softplus(dst, x []float64) {
	if useAVX2 {
		softplusAVX2(dst, x)
		return
	}
	each(dst, x, softplus1)
}

// tab holds the kernels' constants, each repeated across 8 lanes so that
// an instruction can take it as a memory operand; kernel_amd64.s names the
// rows by their offsets (64 bytes a row), in this order.
var tab = func() (t [36][8]float64) {
	rows := []float64{
		log2e, magic, ln2Hi, ln2Lo, expLo, expHi, 1, 2, 0.5, tanhHi,
		math.Float64frombits(1<<63 - 1), // |x| mask
		math.Float64frombits(1 << 63),   // sign mask
		math.Float64frombits(1023),      // exponent bias, as an integer
		0,                               // lane indices, below
	}
	rows = append(rows, expPoly[:]...)
	rows = append(rows, logPoly[:]...)
	if len(rows) != len(t) {
		panic("vmath: constant table out of step with kernel_amd64.s")
	}
	for i, v := range rows {
		for j := range t[i] {
			t[i][j] = v
		}
	}
	for j := range t[13] {
		t[13][j] = math.Float64frombits(uint64(j))
	}
	return t
}()
