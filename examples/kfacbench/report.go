package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printTuning prints a learning-rate grid and flags a best rate on its
// edge, beyond which a better one may lie.
func printTuning(w io.Writer, name string, runs []*result, best *result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s lr\tbest training loss\tfinal training loss\t\n", name)
	for _, r := range runs {
		note := ""
		if r.diverged != "" {
			note = " (diverged)"
		}
		fmt.Fprintf(tw, "%g\t%.6g\t%.6g%s\t\n", r.lr, r.bestTrain, r.last().TrainLoss, note)
	}
	tw.Flush()
	if edge := gridEdge(runs, best); edge != "" {
		fmt.Fprintf(w, "note: %s's best rate %g is the %s of its grid; a better one may lie beyond it (widen -%s-lrs)\n",
			name, best.lr, edge, gridFlag(name))
	}
}

// gridEdge returns "smallest" or "largest" when best's rate is that end
// of a grid of more than one rate, and "" otherwise.
func gridEdge(runs []*result, best *result) string {
	if len(runs) < 2 {
		return ""
	}
	lo, hi := true, true
	for _, r := range runs {
		lo = lo && best.lr <= r.lr
		hi = hi && best.lr >= r.lr
	}
	switch {
	case lo:
		return "smallest"
	case hi:
		return "largest"
	}
	return ""
}

// gridFlag names the flag prefix of optimizer name's grid.
func gridFlag(name string) string {
	if strings.HasPrefix(name, "ng-") {
		return "ng"
	}
	return name
}

// printTable prints, per optimizer, the steps and optimizer seconds to the
// target and the final losses.
func printTable(w io.Writer, p *problem, target float64, results []*result) {
	fmt.Fprintf(w, "\ntarget training loss %.6g\n", target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "optimizer\tsteps to target\tseconds to target\tms/step\tsteps run\ttrain loss\theld-out loss\t"
	if p.classify {
		head += "train acc\theld-out acc\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range results {
		last := r.last()
		steps, secs := "never", "–"
		if r.reached {
			steps, secs = fmt.Sprint(r.stepsToTarget), fmt.Sprintf("%.2f", r.secondsToTarget)
		}
		ms := 1000 * r.seconds / float64(max(1, r.steps))
		line := fmt.Sprintf("%s\t%s\t%s\t%.2f\t%d\t%.6g\t%.6g\t", r.label(), steps, secs, ms, r.steps, last.TrainLoss, last.TestLoss)
		if p.classify {
			line += fmt.Sprintf("%.3f\t%.3f\t", last.TrainAcc, last.TestAcc)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	var kfac, base *result
	for _, r := range results {
		switch {
		case r.optimizer == "kfac":
			kfac = r
		case r.reached && (base == nil || r.secondsToTarget < base.secondsToTarget):
			base = r
		}
	}
	// A target met at step 0 leaves no ratio.
	if kfac != nil && kfac.reached && kfac.stepsToTarget > 0 && base != nil {
		fmt.Fprintf(w, "K-FAC reached the target in %.1f× fewer steps and %.1f× less time than %s\n",
			float64(base.stepsToTarget)/float64(kfac.stepsToTarget), base.secondsToTarget/kfac.secondsToTarget, base.label())
	}
}
