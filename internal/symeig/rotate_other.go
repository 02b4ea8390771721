//go:build !amd64 || purego

package symeig

// rotate applies the plane rotation to the rows x (index i) and y (index
// i+1): y ← s·x + c·y, x ← c·x − s·y.
func rotate(x, y []float64, c, s float64) { rotateGo(x, y, c, s) }
