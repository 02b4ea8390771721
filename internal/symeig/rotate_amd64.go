//go:build amd64 && !purego

package symeig

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func rotateAVX2(x, y []float64, c, s float64)

// rotate applies the plane rotation to the rows x (index i) and y (index
// i+1): y ← s·x + c·y, x ← c·x − s·y.
func rotate(x, y []float64, c, s float64) {
	y = y[:len(x)]
	k := 0
	if useAVX2 {
		k = len(x) &^ 3
		rotateAVX2(x[:k], y[:k], c, s)
	}
	rotateGo(x[k:], y[k:], c, s)
}
