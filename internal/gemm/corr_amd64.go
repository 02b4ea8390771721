//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// corrFwdKernel and corrDotKernel are the AVX-512 tiles of corr_amd64.s.
var corrFwdKernel, corrDotKernel = corrKernels()

func corrKernels() (corrFwdFunc, corrDotFunc) {
	if cpu.X86.HasAVX512F {
		return corrFwd6x4, corrDot6x4
	}
	return nil, nil
}

// corrFwd6x4 computes a 6×(4 vectors) tile of CorrForward; corrFwdGo is its
// twin.
//
//go:noescape
func corrFwd6x4(k int, w *float64, ldw int, off *int, x *float64, xpos *[4]int, masks *[4]uint16, y *float64, ldy int, ypos *[4]int, rows int, flags int)

// corrDot6x4 computes the lanes of a 6×4 tile of CorrGrad; corrDotGo is its
// twin.
//
//go:noescape
func corrDot6x4(ns int, gr *float64, gs, ldg int, x *float64, xs, ldx int, off *[4]int, oh, nfull, tail int, lanes *float64, add int)
