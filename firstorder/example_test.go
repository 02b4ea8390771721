package firstorder_test

import (
	"bytes"
	"fmt"
	"log"

	"gonum.org/v1/gonum/optimize/functions"

	"github.com/curvkit/curvkit/firstorder"
)

// Adam on Rosenbrock's function from the standard start.
func ExampleNewAdam() {
	f := functions.ExtendedRosenbrock{}
	x := []float64{-1.2, 1}
	grad := make([]float64, len(x))
	settings := firstorder.DefaultAdamSettings() // torch.optim.Adam's
	settings.LR = 0.02
	opt, err := firstorder.NewAdam(len(x), settings)
	if err != nil {
		log.Fatal(err)
	}
	for range 5000 {
		f.Grad(grad, x)
		if err := opt.Step(x, grad); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("x = [%.6f %.6f], f < 1e-12: %t\n", x[0], x[1], f.Func(x) < 1e-12)
	// Output:
	// x = [1.000000 1.000000], f < 1e-12: true
}

// One training loop, any optimizer: only the line that builds it changes.
func ExampleOptimizer() {
	// f(x) = ½ Σ aᵢ xᵢ², an ill-conditioned bowl.
	a := []float64{1, 10, 100}
	build := map[string]func(n int) (firstorder.Optimizer, error){
		"SGD": func(n int) (firstorder.Optimizer, error) {
			return firstorder.NewSGD(n, firstorder.SGDSettings{LR: 0.01})
		},
		"Momentum": func(n int) (firstorder.Optimizer, error) {
			return firstorder.NewSGD(n, firstorder.SGDSettings{LR: 0.01, Momentum: 0.9})
		},
		"Adam": func(n int) (firstorder.Optimizer, error) {
			s := firstorder.DefaultAdamSettings()
			s.LR = 0.01
			return firstorder.NewAdam(n, s)
		},
	}
	for _, name := range []string{"SGD", "Momentum", "Adam"} {
		opt, err := build[name](len(a))
		if err != nil {
			log.Fatal(err)
		}
		x, grad := []float64{1, 1, 1}, make([]float64, len(a))
		for range 200 {
			for i := range x {
				grad[i] = a[i] * x[i]
			}
			if err := opt.Step(x, grad); err != nil {
				log.Fatal(err)
			}
		}
		var f float64
		for i := range x {
			f += a[i] * x[i] * x[i] / 2
		}
		fmt.Printf("%-8s f = %.2e after %d steps\n", name, f, opt.Steps())
	}
	// Output:
	// SGD      f = 8.98e-03 after 200 steps
	// Momentum f = 1.50e-08 after 200 steps
	// Adam     f = 1.35e-02 after 200 steps
}

// A linear warm-up, then cosine annealing, with gradient clipping, around
// AdamW. The wrappers are Optimizers themselves.
func ExampleNewScheduled() {
	settings := firstorder.DefaultAdamWSettings()
	settings.LR = 0.1
	adamw, err := firstorder.NewAdamW(2, settings)
	if err != nil {
		log.Fatal(err)
	}
	clipped, err := firstorder.NewClipped(adamw, 1)
	if err != nil {
		log.Fatal(err)
	}
	opt, err := firstorder.NewScheduled(clipped, firstorder.Warmup{
		Steps: 3, Start: 0.1,
		Then: firstorder.Cosine{Steps: 6, Min: 0.01},
	})
	if err != nil {
		log.Fatal(err)
	}
	x, grad := []float64{1, -2}, make([]float64, 2)
	for range 10 {
		fmt.Printf("step %d: lr %.4f\n", opt.Steps(), opt.LearningRate())
		grad[0], grad[1] = 10*x[0], 10*x[1]
		if err := opt.Step(x, grad); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// step 0: lr 0.0100
	// step 1: lr 0.0400
	// step 2: lr 0.0700
	// step 3: lr 0.1000
	// step 4: lr 0.0940
	// step 5: lr 0.0775
	// step 6: lr 0.0550
	// step 7: lr 0.0325
	// step 8: lr 0.0160
	// step 9: lr 0.0100
}

// Saving the state mid-run and resuming in a new optimizer continues exactly
// as the uninterrupted run.
func ExampleOptimizer_save() {
	f := functions.ExtendedRosenbrock{}
	run := func(opt firstorder.Optimizer, x []float64, steps int) {
		grad := make([]float64, len(x))
		for range steps {
			f.Grad(grad, x)
			if err := opt.Step(x, grad); err != nil {
				log.Fatal(err)
			}
		}
	}
	settings := firstorder.DefaultNAdamSettings()
	settings.LR = 0.01

	whole, _ := firstorder.NewNAdam(2, settings)
	x1 := []float64{-1.2, 1}
	run(whole, x1, 200)

	first, _ := firstorder.NewNAdam(2, settings)
	x2 := []float64{-1.2, 1}
	run(first, x2, 120)
	var saved bytes.Buffer
	if err := first.Save(&saved); err != nil { // with x2, e.g. in a checkpoint file
		log.Fatal(err)
	}
	resumed, _ := firstorder.NewNAdam(2, settings)
	if err := resumed.Load(&saved); err != nil {
		log.Fatal(err)
	}
	run(resumed, x2, 80)

	fmt.Println(resumed.Steps(), x1[0] == x2[0] && x1[1] == x2[1])
	// Output:
	// 200 true
}

// Settings fields that are 0 are 0 where 0 means something: the zero value of
// AdamWSettings has no weight decay (and no moment averaging). torch's
// defaults, a decay of 1e-2 among them, come from DefaultAdamWSettings.
func ExampleDefaultAdamWSettings() {
	torchs := firstorder.DefaultAdamWSettings()
	torchs.LR = 0.1
	for _, c := range []struct {
		name     string
		settings firstorder.AdamWSettings
	}{
		{"AdamWSettings{LR: 0.1}", firstorder.AdamWSettings{LR: 0.1}},
		{"DefaultAdamWSettings(), LR 0.1", torchs},
	} {
		opt, err := firstorder.NewAdamW(1, c.settings)
		if err != nil {
			log.Fatal(err)
		}
		x := []float64{1}
		if err := opt.Step(x, []float64{0}); err != nil { // a zero gradient
			log.Fatal(err)
		}
		fmt.Printf("%-31s θ = %v\n", c.name, x[0])
	}
	// Output:
	// AdamWSettings{LR: 0.1}          θ = 1
	// DefaultAdamWSettings(), LR 0.1  θ = 0.999
}

// L-BFGS with torch's strong Wolfe line search on Rosenbrock's function: its
// Step takes the function, which it evaluates as often as it needs, as
// torch's step takes a closure.
func ExampleLBFGS() {
	f := functions.ExtendedRosenbrock{}
	settings := firstorder.DefaultLBFGSSettings() // torch.optim.LBFGS's
	settings.StrongWolfe = true
	opt, err := firstorder.NewLBFGS(2, settings)
	if err != nil {
		log.Fatal(err)
	}
	x := []float64{-1.2, 1}
	for range 3 {
		loss, err := opt.Step(x, func(x, grad []float64) float64 {
			f.Grad(grad, x)
			return f.Func(x)
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("f = %.3g before, %d iterations, %d evaluations so far\n", loss, opt.Iterations(), opt.Evaluations())
	}
	fmt.Printf("x = [%.6f %.6f]\n", x[0], x[1])
	// Output:
	// f = 24.2 before, 19 iterations, 25 evaluations so far
	// f = 0.423 before, 35 iterations, 44 evaluations so far
	// f = 4.22e-10 before, 36 iterations, 45 evaluations so far
	// x = [0.999981 0.999962]
}

// Parameter groups, as torch's param_groups: no weight decay on the biases of
// a 3-2-1 network laid out as curvkit's layers are (each neuron's weights,
// then its bias).
func ExampleGroup() {
	const n = 2*(3+1) + 1*(2+1) // layers x[0:8] and x[8:11]
	settings := firstorder.DefaultAdamWSettings()
	settings.WeightDecay = 0.1
	opt, err := firstorder.NewAdamW(n, settings)
	if err != nil {
		log.Fatal(err)
	}
	biases := append(firstorder.Biases(0, 8, 3), firstorder.Biases(8, 11, 2)...)
	groups := firstorder.NoDecay(n, biases...)
	if err := opt.SetGroups(groups); err != nil {
		log.Fatal(err)
	}
	for _, g := range opt.Groups() {
		fmt.Printf("%-8s %v, learning rate ×%g, weight decay ×%g\n", g.Name, g.Spans, g.LRScale, g.WeightDecayScale)
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = 1
	}
	if err := opt.Step(x, make([]float64, n)); err != nil { // a zero gradient: decay alone
		log.Fatal(err)
	}
	fmt.Println(x)
	// Output:
	// decay    [{0 3} {4 7} {8 10}], learning rate ×1, weight decay ×1
	// no decay [{3 4} {7 8} {10 11}], learning rate ×1, weight decay ×0
	// [0.9999 0.9999 0.9999 1 0.9999 0.9999 0.9999 1 0.9999 0.9999 1]
}
