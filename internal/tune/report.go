package tune

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PrintTuning prints a learning-rate grid and flags a best rate on its
// edge, beyond which a better one may lie; flag names the command-line
// flag of the grid (-flag).
func PrintTuning(w io.Writer, name, flag string, runs []*Result, best *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s lr\tbest training loss\tfinal training loss\t\n", name)
	for _, r := range runs {
		note := ""
		if r.Diverged != "" {
			note = " (diverged)"
		}
		fmt.Fprintf(tw, "%g\t%.6g\t%.6g%s\t\n", r.LR, r.BestTrain, r.Last().TrainLoss, note)
	}
	tw.Flush()
	if edge := GridEdge(runs, best); edge != "" {
		fmt.Fprintf(w, "note: %s's best rate %g is the %s of its grid; a better one may lie beyond it (widen -%s)\n",
			name, best.LR, edge, flag)
	}
}

// GridEdge returns "smallest" or "largest" when best's rate is that end
// of a grid of more than one rate, and "" otherwise.
func GridEdge(runs []*Result, best *Result) string {
	if len(runs) < 2 {
		return ""
	}
	lo, hi := true, true
	for _, r := range runs {
		lo = lo && best.LR <= r.LR
		hi = hi && best.LR >= r.LR
	}
	switch {
	case lo:
		return "smallest"
	case hi:
		return "largest"
	}
	return ""
}

// PrintTable prints, per run, the steps and optimizer seconds to the
// target, the milliseconds a step, the steps run and the final losses (and
// metric, if shown), then how each K-FAC run compares with the fastest
// other run that reached the target.
func (b *Bench) PrintTable(w io.Writer, target float64, results []*Result) {
	fmt.Fprintf(w, "\ntarget training loss %.6g\n", target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "optimizer\tsteps to target\tseconds to target\tms/step\tsteps run\ttrain loss\theld-out loss\t"
	m := b.Metric
	if m.Show {
		head += fmt.Sprintf("train %s\theld-out %s\t", m.Head, m.Head)
	}
	fmt.Fprintln(tw, head)
	for _, r := range results {
		last := r.Last()
		steps, secs := "never", "–"
		if r.Reached {
			steps, secs = fmt.Sprint(r.StepsToTarget), fmt.Sprintf("%.2f", r.SecondsToTarget)
		}
		ms := 1000 * r.Seconds / float64(max(1, r.Steps))
		line := fmt.Sprintf("%s\t%s\t%s\t%.2f\t%d\t%.6g\t%.6g\t", r.Label(), steps, secs, ms, r.Steps, last.TrainLoss, last.TestLoss)
		if m.Show {
			line += fmt.Sprintf(m.Format+"\t"+m.Format+"\t", last.TrainMetric, last.TestMetric)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	var base *Result
	for _, r := range results {
		if _, kfac := kfacName(r.Optimizer); !kfac && r.Reached && (base == nil || r.SecondsToTarget < base.SecondsToTarget) {
			base = r
		}
	}
	for _, r := range results {
		// A target met at step 0 leaves no ratio.
		name, ok := kfacName(r.Optimizer)
		if !ok || !r.Reached || r.StepsToTarget == 0 || base == nil {
			continue
		}
		fmt.Fprintf(w, "%s reached the target in %.1f× fewer steps and %.1f× less time than %s\n",
			name, float64(base.StepsToTarget)/float64(r.StepsToTarget), base.SecondsToTarget/r.SecondsToTarget, base.Label())
	}
}

// kfacName returns the name to print of a K-FAC optimizer, "kfac" or a
// variant "kfac-variant" (K-FAC (variant)), and false for any other.
func kfacName(optimizer string) (string, bool) {
	if optimizer == "kfac" {
		return "K-FAC", true
	}
	if v, ok := strings.CutPrefix(optimizer, "kfac-"); ok {
		return "K-FAC (" + v + ")", true
	}
	return "", false
}
