//go:build !amd64 || purego

package vmath

import "math"

func exp(dst, x []float64)      { each(dst, x, expGo) }
func tanh(dst, x []float64)     { each(dst, x, math.Tanh) }
func sigmoid(dst, x []float64)  { each(dst, x, sigmoidGo) }
func softplus(dst, x []float64) { each(dst, x, softplusGo) }

func tanhBackward(dst, y, g []float64)    { tanhBackwardGo(dst, y, g) }
func sigmoidBackward(dst, y, g []float64) { sigmoidBackwardGo(dst, y, g) }
func add(dst, x []float64)                { addGo(dst, x) }
