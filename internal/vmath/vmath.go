package vmath

import "fmt"

// Exp stores e^x[i] in dst[i].
func Exp(dst, x []float64) {
	check(dst, x)
	exp(dst, x)
}

// Tanh stores tanh x[i] in dst[i].
func Tanh(dst, x []float64) {
	check(dst, x)
	tanh(dst, x)
}

// Sigmoid stores the logistic function 1/(1+e^{−x[i]}) in dst[i].
func Sigmoid(dst, x []float64) {
	check(dst, x)
	sigmoid(dst, x)
}

// Softplus stores log(1+e^{x[i]}) in dst[i].
func Softplus(dst, x []float64) {
	check(dst, x)
	softplus(dst, x)
}

func check(dst, x []float64) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("vmath: destination of length %d for %d inputs", len(dst), len(x)))
	}
}

// each stores f(x[i]) in dst[i].
func each(dst, x []float64, f func(float64) float64) {
	for i, v := range x {
		dst[i] = f(v)
	}
}

// TanhBackward stores (1 − y[i]²)·g[i] in dst[i]: g carried back through
// tanh, from its output y = tanh x. dst may be y or g.
func TanhBackward(dst, y, g []float64) {
	check3(dst, y, g)
	tanhBackward(dst, y, g)
}

// SigmoidBackward stores y[i](1 − y[i])·g[i] in dst[i]: g carried back
// through the sigmoid, from its output y. dst may be y or g.
func SigmoidBackward(dst, y, g []float64) {
	check3(dst, y, g)
	sigmoidBackward(dst, y, g)
}

// Add adds x[i] to dst[i]. dst may be x.
func Add(dst, x []float64) {
	check(dst, x)
	add(dst, x)
}

func addGo(dst, x []float64) {
	for i, v := range x {
		dst[i] += v
	}
}

func check3(dst, y, g []float64) {
	if len(y) != len(g) || len(dst) != len(y) {
		panic(fmt.Sprintf("vmath: lengths %d, %d and %d differ", len(dst), len(y), len(g)))
	}
}

// The backward passes' scalar forms, rounding each product as the
// assembly does (float64(…) where a compiler could fuse it into a sum).

func tanhBackwardGo(dst, y, g []float64) {
	for i, t := range y {
		dst[i] = (1 - float64(t*t)) * g[i]
	}
}

func sigmoidBackwardGo(dst, y, g []float64) {
	for i, p := range y {
		dst[i] = p * (1 - p) * g[i]
	}
}
