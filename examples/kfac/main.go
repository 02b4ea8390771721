package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"text/tabwriter"
	"time"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/firstorder"
	"github.com/curvkit/curvkit/secondorder"
)

func main() {
	steps := flag.Int("steps", 2000, "step budget of each optimizer")
	seed := flag.Uint64("seed", 1, "seed of the split, the initialisation, the batches and K-FAC's sampled labels")
	flag.Parse()
	if flag.NArg() > 0 || *steps < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, *steps, *seed); err != nil {
		log.Fatal(err)
	}
}

// trace is one optimizer's run: the training loss every evalEvery steps
// and the optimizer time spent up to then.
type trace struct {
	name        string
	steps       []int
	seconds     []float64
	losses      []float64
	final, test float64 // training and held-out loss at the end
}

const evalEvery = 10

func run(w io.Writer, steps int, seed uint64) error {
	model, theta0, train, test, err := problem(seed)
	if err != nil {
		return err
	}
	kfac, adam, err := optimizers(model, seed)
	if err != nil {
		return err
	}
	net := model.Net
	fmt.Fprintf(w, "digits autoencoder 64-48-32-16-32-48-64 (%d parameters), %d training and %d held-out rows, batch 256, %d steps\n",
		net.NumParams(), train.Len(), test.Len(), steps)

	// Adam runs the whole budget and its best training loss is the target;
	// K-FAC runs until it reaches the target.
	a, err := optimize("Adam, lr 0.01", adam, model, theta0, train, test, steps, math.Inf(-1), seed)
	if err != nil {
		return err
	}
	target := math.Inf(1)
	for _, l := range a.losses {
		target = min(target, l)
	}
	k, err := optimize("K-FAC", kfac, model, theta0, train, test, steps, target, seed)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "target training loss %.6g: the best Adam reaches in %d steps\n\n", target, steps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "optimizer\tsteps to target\tseconds to target\tms/step\ttrain loss\theld-out loss\t")
	for _, t := range []*trace{k, a} {
		at, secs := "never", "–"
		if i := t.reached(target); i >= 0 {
			at, secs = fmt.Sprint(t.steps[i]), fmt.Sprintf("%.2f", t.seconds[i])
		}
		n := len(t.steps) - 1
		msPerStep := 1000 * t.seconds[n] / float64(max(1, t.steps[n]))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%.6g\t%.6g\t\n", t.name, at, secs, msPerStep, t.final, t.test)
	}
	tw.Flush()
	if i, j := k.reached(target), a.reached(target); i >= 0 && k.steps[i] > 0 {
		fmt.Fprintf(w, "\nK-FAC reached the target in %.1f× fewer steps and %.1f× less optimizer time than Adam.\n",
			float64(a.steps[j])/float64(k.steps[i]), a.seconds[j]/k.seconds[i])
	}
	return nil
}

// reached returns the first evaluation at or below target, or -1.
func (t *trace) reached(target float64) int {
	for i, l := range t.losses {
		if l <= target {
			return i
		}
	}
	return -1
}

// optimize trains a copy of θ₀ with opt on shuffled batches of 256 rows
// for at most steps steps, evaluating the training loss every evalEvery
// steps and stopping once it is at or below target. The clock counts the
// optimizer's steps only, not the evaluations.
func optimize(name string, opt secondorder.Optimizer, m *curvature.Model, theta0 []float64, train, test *data.Set, steps int, target float64, seed uint64) (*trace, error) {
	theta := append([]float64(nil), theta0...)
	batches, err := data.NewBatches(train, 256, rand.New(rand.NewPCG(seed, 3)))
	if err != nil {
		return nil, err
	}
	batches.DropLast = true
	eval := nn.NewTape(m.Net, m.Loss)
	loss := func(s *data.Set) float64 {
		eval.Forward(theta, s.X)
		return eval.LossValue(s.Y)
	}
	t := &trace{name: name, steps: []int{0}, seconds: []float64{0}, losses: []float64{loss(train)}}
	var clock time.Duration
	for step := 1; step <= steps && t.losses[len(t.losses)-1] > target; step++ {
		if !batches.Next() { // the end of an epoch: the next call starts another
			batches.Next()
		}
		start := time.Now()
		if _, err := opt.Step(theta, curvature.Batch{X: batches.X(), Y: batches.Y()}); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		clock += time.Since(start)
		if step%evalEvery == 0 || step == steps {
			t.steps, t.seconds = append(t.steps, step), append(t.seconds, clock.Seconds())
			t.losses = append(t.losses, loss(train))
		}
	}
	t.final, t.test = t.losses[len(t.losses)-1], loss(test)
	return t, nil
}

// problem returns the example's model, its initialisation and the
// training and held-out sets for seed.
func problem(seed uint64) (m *curvature.Model, theta0 []float64, train, test *data.Set, err error) {
	// The 1,797 embedded digits (64 pixels in [0, 1]): 1,500 rows to train
	// on, 297 held out. An autoencoder's targets are its inputs.
	digits, err := data.Digits()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	train, test, err = digits.Split(1500.0/1797, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	train, test = &data.Set{X: train.X, Y: train.X}, &data.Set{X: test.X, Y: test.X}

	// 64-48-32-16-32-48-64, tanh, linear output; the loss is the sigmoid
	// cross-entropy summed over the 64 outputs, averaged over rows.
	net, err := nn.NewMLP([]int{64, 48, 32, 16, 32, 48, 64}, []string{"tanh", "tanh", "tanh", "tanh", "tanh", "identity"})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	theta0 = make([]float64, net.NumParams())
	net.Init(theta0, rand.New(rand.NewPCG(seed, 2)))
	return &curvature.Model{Net: net, Loss: nn.SigmoidBCE{}}, theta0, train, test, nil
}

// optimizers returns K-FAC with its defaults and Adam at the rate that
// tuning found best.
func optimizers(m *curvature.Model, seed uint64) (kfac, adam secondorder.Optimizer, err error) {
	kfac, err = secondorder.NewKFAC(m, &secondorder.KFACSettings{Seed: seed})
	if err != nil {
		return nil, nil, err
	}
	settings := firstorder.DefaultAdamSettings()
	settings.LR = 1e-2
	adamOpt, err := firstorder.NewAdam(m.Net.NumParams(), settings)
	if err != nil {
		return nil, nil, err
	}
	adam, err = secondorder.NewFirstOrder(m, adamOpt)
	if err != nil {
		return nil, nil, err
	}
	return kfac, adam, nil
}
