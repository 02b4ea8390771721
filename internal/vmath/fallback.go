package vmath

import "math"

// The functions where no kernel runs (the purego build, other
// architectures, CPUs without AVX2 and FMA): the math package's forms, as
// curvature/nn computed them before it used this package, so that those
// builds keep their results to the bit.

// expGo is math.Exp, but for x above 709.43, where math.Exp on amd64
// returns +Inf before e^x overflows (at 709.78): there it is exp1.
func expGo(x float64) float64 {
	if x > 709.43 {
		return exp1(x)
	}
	return math.Exp(x)
}

// sigmoidGo is 1/(1+e^{−x}), as e/(1+e) with e = e^x for x < 0.
func sigmoidGo(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplusGo is max(x, 0) + log(1 + e^{−|x|}).
func softplusGo(x float64) float64 {
	return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}
