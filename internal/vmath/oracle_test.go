package vmath

import (
	"math"
	"math/big"
)

// A reference in 300-bit arithmetic (math/big), rounded once to float64:
// the correctly rounded result the accuracy tests measure ulps from.

const prec = 300

func bf(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }

func newF() *big.Float { return new(big.Float).SetPrec(prec) }

// ln2Big is ln 2 = 2 atanh(1/3) = 2 Σ 3^{−(2n+1)}/(2n+1).
var ln2Big = func() *big.Float {
	third := newF().Quo(bf(1), bf(3))
	ninth := newF().Mul(third, third)
	sum, pow := newF(), newF().Set(third)
	for n := 0; n < 300; n++ {
		sum.Add(sum, newF().Quo(pow, bf(float64(2*n+1))))
		pow.Mul(pow, ninth)
	}
	return sum.Mul(sum, bf(2))
}()

// seriesExpm1 is Σ_{n≥1} yⁿ/n! for |y| ≤ 1.
func seriesExpm1(y *big.Float) *big.Float {
	sum, term := newF(), newF().Set(y)
	stop := y.MantExp(nil) - prec - 10 // terms below this do not show
	for n := 2; term.Sign() != 0 && term.MantExp(nil) > stop; n++ {
		sum.Add(sum, term)
		term.Mul(term, y)
		term.Quo(term, bf(float64(n)))
	}
	return sum
}

// expBig is e^x for finite x: e^x = 2^k e^r, r = x − k ln 2.
func expBig(x *big.Float) *big.Float {
	q, _ := newF().Quo(x, ln2Big).Float64()
	k := math.Round(q)
	r := newF().Sub(x, newF().Mul(bf(k), ln2Big))
	e := seriesExpm1(r)
	e.Add(e, bf(1))
	return e.SetMantExp(e, int(k))
}

// expm1Big is e^x − 1 without cancellation near 0.
func expm1Big(x *big.Float) *big.Float {
	if newF().Abs(x).Cmp(bf(0.5)) <= 0 {
		return seriesExpm1(x)
	}
	e := expBig(x)
	return e.Sub(e, bf(1))
}

// log1pBig is log(1+u) for u ≥ 0: the series u − u²/2 + … below 2⁻²⁰,
// else e·ln 2 + 2 atanh((m−1)/(m+1)) for 1+u = m·2^e.
func log1pBig(u *big.Float) *big.Float {
	if u.Cmp(bf(0x1p-20)) < 0 {
		sum, pow := newF(), newF().Set(u)
		stop := u.MantExp(nil) - prec - 10
		for n := 1; pow.Sign() != 0 && pow.MantExp(nil) > stop; n++ {
			t := newF().Quo(pow, bf(float64(n)))
			if n%2 == 0 {
				t.Neg(t)
			}
			sum.Add(sum, t)
			pow.Mul(pow, u)
		}
		return sum
	}
	y := newF().Add(u, bf(1))
	m := newF()
	e := y.MantExp(m) // y = m·2^e, m in [½, 1)
	s := newF().Quo(newF().Sub(m, bf(1)), newF().Add(m, bf(1)))
	s2 := newF().Mul(s, s)
	sum, pow := newF(), newF().Set(s)
	stop := s.MantExp(nil) - prec - 10
	for n := 0; pow.Sign() != 0 && pow.MantExp(nil) > stop; n++ {
		sum.Add(sum, newF().Quo(pow, bf(float64(2*n+1))))
		pow.Mul(pow, s2)
	}
	sum.Mul(sum, bf(2))
	return sum.Add(sum, newF().Mul(bf(float64(e)), ln2Big))
}

// The references for finite x.

func expRef(x float64) float64 {
	if x > 710 {
		return math.Inf(1)
	}
	if x < -746 {
		return 0
	}
	v, _ := expBig(bf(x)).Float64()
	return v
}

func tanhRef(x float64) float64 {
	if math.Abs(x) > 40 {
		return math.Copysign(1, x)
	}
	m := expm1Big(bf(2 * x))
	v, _ := m.Quo(m, newF().Add(m, bf(2))).Float64()
	return v
}

func sigmoidRef(x float64) float64 {
	if x > 40 {
		return 1
	}
	if x < -746 {
		return 0
	}
	e := expBig(bf(-x))
	v, _ := e.Quo(bf(1), e.Add(e, bf(1))).Float64()
	return v
}

func softplusRef(x float64) float64 {
	if x > 40 {
		return x // log(1+e^x) − x = log1p(e^{−x}) < 2^{−57} x
	}
	if x < -746 {
		return 0
	}
	v, _ := log1pBig(expBig(bf(x))).Float64()
	return v
}
