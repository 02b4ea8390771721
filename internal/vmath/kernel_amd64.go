//go:build amd64 && !purego

package vmath

import (
	"math"

	"golang.org/x/sys/cpu"
)

// useAVX512 and useAVX2 select the kernels of kernel512_amd64.s (which
// need AVX-512F) and of kernel_amd64.s (AVX2 and FMA); golang.org/x/sys/cpu
// also checks that the operating system saves the registers they use.
var (
	useAVX512 = cpu.X86.HasAVX512F
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// The kernels take any length: whole vectors of 16 (or 4), then the rest
// through masked loads and stores. dst may be x.

//go:noescape
func expAVX512(dst, x []float64)

//go:noescape
func tanhAVX512(dst, x []float64)

//go:noescape
func sigmoidAVX512(dst, x []float64)

//go:noescape
func softplusAVX512(dst, x []float64)

//go:noescape
func expAVX2(dst, x []float64)

//go:noescape
func tanhAVX2(dst, x []float64)

//go:noescape
func sigmoidAVX2(dst, x []float64)

//go:noescape
func softplusAVX2(dst, x []float64)

//go:noescape
func addAVX2(dst, x, g []float64) // dst = x + g

//go:noescape
func tanhBackwardAVX2(dst, x, g []float64) // dst = (1 − x²)·g

//go:noescape
func sigmoidBackwardAVX2(dst, x, g []float64) // dst = x(1 − x)·g

func exp(dst, x []float64) {
	if useAVX512 {
		expAVX512(dst, x)
		return
	}
	if useAVX2 {
		expAVX2(dst, x)
		return
	}
	each(dst, x, expGo)
}

func tanh(dst, x []float64) {
	if useAVX512 {
		tanhAVX512(dst, x)
		return
	}
	if useAVX2 {
		tanhAVX2(dst, x)
		return
	}
	each(dst, x, math.Tanh)
}

func sigmoid(dst, x []float64) {
	if useAVX512 {
		sigmoidAVX512(dst, x)
		return
	}
	if useAVX2 {
		sigmoidAVX2(dst, x)
		return
	}
	each(dst, x, sigmoidGo)
}

func softplus(dst, x []float64) {
	if useAVX512 {
		softplusAVX512(dst, x)
		return
	}
	if useAVX2 {
		softplusAVX2(dst, x)
		return
	}
	each(dst, x, softplusGo)
}

func add(dst, x []float64) {
	if useAVX2 {
		addAVX2(dst, dst, x)
		return
	}
	addGo(dst, x)
}

func tanhBackward(dst, y, g []float64) {
	if useAVX2 {
		tanhBackwardAVX2(dst, y, g)
		return
	}
	tanhBackwardGo(dst, y, g)
}

func sigmoidBackward(dst, y, g []float64) {
	if useAVX2 {
		sigmoidBackwardAVX2(dst, y, g)
		return
	}
	sigmoidBackwardGo(dst, y, g)
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
