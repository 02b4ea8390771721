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
