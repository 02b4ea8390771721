//go:build !amd64 || purego

package vmath

func exp(dst, x []float64)      { each(dst, x, exp1) }
func tanh(dst, x []float64)     { each(dst, x, tanh1) }
func sigmoid(dst, x []float64)  { each(dst, x, sigmoid1) }
func softplus(dst, x []float64) { each(dst, x, softplus1) }

func tanhBackward(dst, y, g []float64)    { tanhBackwardGo(dst, y, g) }
func sigmoidBackward(dst, y, g []float64) { sigmoidBackwardGo(dst, y, g) }
func add(dst, x []float64)                { addGo(dst, x) }
