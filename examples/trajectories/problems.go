package main

import (
	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/firstorder"
)

// problem is a function of two variables with a start point, a window to
// draw, and how the learning rates are chosen.
type problem struct {
	name     string // file name stem
	title    string
	f        func(x []float64) float64
	grad     func(dst, x []float64)
	start    [2]float64
	min      [2]float64 // the minimum or the saddle point, marked on the plot
	minLabel string
	// Window drawn, in x and y.
	x0, x1, y0, y1 float64
	steps          int
	// fixedLR, if not 0, is every optimizer's learning rate. Otherwise each
	// takes the smallest rate from lrGrid that brings f below target within
	// the steps, or, if none does, the rate that ends lowest.
	fixedLR float64
	target  float64
}

// saddle is f(x, y) = x² − y², whose only stationary point is a saddle at 0.
type saddle struct{}

func (saddle) Func(x []float64) float64 { return x[0]*x[0] - x[1]*x[1] }

func (saddle) Grad(dst, x []float64) { dst[0], dst[1] = 2*x[0], -2*x[1] }

func problems() []problem {
	beale, rosen, sad := functions.Beale{}, functions.ExtendedRosenbrock{}, saddle{}
	return []problem{
		{
			name: "beale", title: "Beale's function",
			f: beale.Func, grad: beale.Grad,
			start: [2]float64{0.7, 1.4}, min: [2]float64{3, 0.5}, minLabel: "minimum",
			x0: -0.5, x1: 4, y0: -1.5, y1: 2.5,
			steps: 600, target: 1e-4,
		},
		{
			name: "valley", title: "A long narrow valley (Rosenbrock)",
			f: rosen.Func, grad: rosen.Grad,
			start: [2]float64{-1.5, 2.5}, min: [2]float64{1, 1}, minLabel: "minimum",
			x0: -2, x1: 2, y0: -1, y1: 3,
			steps: 1500, target: 1e-4,
		},
		{
			name: "saddle", title: "A saddle point, f = x² − y²",
			f: sad.Func, grad: sad.Grad,
			start: [2]float64{1, 1e-3}, min: [2]float64{0, 0}, minLabel: "saddle point",
			x0: -1.2, x1: 1.2, y0: -0.4, y1: 1.6,
			steps: 200, fixedLR: 0.01,
		},
	}
}

// lrGrid is the set of learning rates tried on problems without a fixed one.
var lrGrid = []float64{1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1}

// method is one of the optimizers the seed article compares.
type method struct {
	name  string
	build func(lr float64) (firstorder.Optimizer, error)
}

// withLR returns the build of the two-parameter optimizer that newOpt makes
// from the settings s with the learning rate that setLR writes.
func withLR[S any, O firstorder.Optimizer](s S, newOpt func(int, S) (O, error), setLR func(*S, float64)) func(float64) (firstorder.Optimizer, error) {
	return func(lr float64) (firstorder.Optimizer, error) {
		c := s
		setLR(&c, lr)
		return newOpt(2, c)
	}
}

func methods() []method {
	return []method{
		{"SGD", func(lr float64) (firstorder.Optimizer, error) {
			return firstorder.NewSGD(2, firstorder.SGDSettings{LR: lr})
		}},
		{"Momentum", func(lr float64) (firstorder.Optimizer, error) {
			return firstorder.NewSGD(2, firstorder.SGDSettings{LR: lr, Momentum: 0.9})
		}},
		{"Nesterov", func(lr float64) (firstorder.Optimizer, error) {
			return firstorder.NewSGD(2, firstorder.SGDSettings{LR: lr, Momentum: 0.9, Nesterov: true})
		}},
		{"Adagrad", func(lr float64) (firstorder.Optimizer, error) {
			return firstorder.NewAdagrad(2, firstorder.AdagradSettings{LR: lr})
		}},
		{"RMSprop", withLR(firstorder.DefaultRMSpropSettings(), firstorder.NewRMSprop, func(s *firstorder.RMSpropSettings, lr float64) { s.LR = lr })},
		{"Adam", withLR(firstorder.DefaultAdamSettings(), firstorder.NewAdam, func(s *firstorder.AdamSettings, lr float64) { s.LR = lr })},
		{"AdaMax", withLR(firstorder.DefaultAdamaxSettings(), firstorder.NewAdamax, func(s *firstorder.AdamaxSettings, lr float64) { s.LR = lr })},
		{"NAdam", withLR(firstorder.DefaultNAdamSettings(), firstorder.NewNAdam, func(s *firstorder.NAdamSettings, lr float64) { s.LR = lr })},
		{"AdaBelief", withLR(firstorder.DefaultAdaBeliefSettings(), firstorder.NewAdaBelief, func(s *firstorder.AdaBeliefSettings, lr float64) { s.LR = lr })},
	}
}
