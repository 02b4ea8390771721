//go:build amd64 && !purego

package firstorder

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly loops of kernels_amd64.s: the CPU must have
// AVX2 and the operating system must save the YMM registers, which
// golang.org/x/sys/cpu checks.
var useAVX2 = cpu.X86.HasAVX2

// The assembly loops handle a length that is a multiple of their block
// (8 and 4 elements); the Go loops finish the rest.

//go:noescape
func sgdMomentumAVX2(x, g, b []float64, mom, c, nlr float64)

//go:noescape
func adamAVX2(x, g, m, v []float64, k *adamCoef)

func sgdMomentum(x, g, b []float64, mom, c, nlr float64) {
	if !useAVX2 {
		sgdMomentumGo(x, g, b, mom, c, nlr)
		return
	}
	k := len(x) &^ 7
	if k > 0 { // short runs of parameter groups skip the call
		sgdMomentumAVX2(x[:k], g[:k], b[:k], mom, c, nlr)
	}
	sgdMomentumGo(x[k:], g[k:len(x)], b[k:len(x)], mom, c, nlr)
}

func adam(x, g, m, v []float64, k *adamCoef) {
	if !useAVX2 {
		adamGo(x, g, m, v, k)
		return
	}
	j := len(x) &^ 3
	if j > 0 {
		adamAVX2(x[:j], g[:j], m[:j], v[:j], k)
	}
	adamGo(x[j:], g[j:len(x)], m[j:len(x)], v[j:len(x)], k)
}
