package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/testfunc"
	"github.com/curvkit/curvkit/secondorder"
)

// gradTol is the stopping test of every run, ours and SciPy's.
const gradTol = 1e-6

// scipyVersion is the SciPy that measured scipyRuns.
const scipyVersion = "1.10.1"

// method is one of our trust-region methods and its SciPy counterpart.
// new builds the solver with our defaults, or with SciPy's settings where
// they differ.
type method struct {
	name, scipy string
	new         func(scipy bool) secondorder.SubproblemSolver
}

var methods = []method{
	{"exact", "trust-exact", func(scipy bool) secondorder.SubproblemSolver {
		if scipy {
			return &secondorder.Exact{EasyTol: 0.1, HardTol: 0.2}
		}
		return &secondorder.Exact{}
	}},
	{"steihaug", "trust-ncg", func(scipy bool) secondorder.SubproblemSolver {
		if scipy {
			return &secondorder.Steihaug{Forcing: 0.5}
		}
		return &secondorder.Steihaug{}
	}},
	{"dogleg", "dogleg", func(bool) secondorder.SubproblemSolver { return &secondorder.Dogleg{} }},
	{"gltr", "trust-krylov", func(bool) secondorder.SubproblemSolver { return &secondorder.GLTR{} }},
}

// scipyMaxRadius is SciPy's maximum trust radius.
const scipyMaxRadius = 1000

// result is one method's run on one instance.
type result struct {
	secondorder.Stats
	converged bool
}

// row is one instance: our results and SciPy's, in the order of methods.
type row struct {
	instance string
	n        int
	ours     []result
	scipy    []scipyRun
}

// measure runs every method on the instances whose names match re, with
// our defaults or SciPy's settings.
func measure(re *regexp.Regexp, maxIter int, scipy bool) ([]row, error) {
	var rows []row
	for _, in := range testfunc.MoreGarbowHillstrom() {
		if !re.MatchString(in.Name) {
			continue
		}
		r := row{instance: in.Name, n: in.Dim()}
		for _, m := range methods {
			tr := &secondorder.TrustRegion{Solver: m.new(scipy)}
			if scipy {
				tr.MaxRadius = scipyMaxRadius
			}
			res, err := run(in, tr, maxIter)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", m.name, in.Name, err)
			}
			r.ours = append(r.ours, res)
			s, ok := lookup(m.scipy, in.Name)
			if !ok {
				return nil, fmt.Errorf("no SciPy count for %s on %s", m.scipy, in.Name)
			}
			r.scipy = append(r.scipy, s)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// run minimises the instance from its start with method.
func run(in testfunc.Instance, method secondorder.Stepper, maxIter int) (result, error) {
	obj, err := curvature.FromProblem(in.Problem(), in.Dim())
	if err != nil {
		return result{}, err
	}
	x := append([]float64(nil), in.X0...)
	res, err := secondorder.Minimize(x, obj, method, &secondorder.Settings{GradientThreshold: gradTol, MaxIterations: maxIter})
	if err != nil {
		// A failed run is a result to report, not an error of the program.
		return result{Stats: res.Stats}, nil
	}
	return result{Stats: res.Stats, converged: res.Status == optimize.GradientThreshold && res.GradNorm < gradTol}, nil
}

func lookup(method, instance string) (scipyRun, bool) {
	for _, s := range scipyRuns {
		if s.method == method && s.instance == instance {
			return s, true
		}
	}
	return scipyRun{}, false
}

// printTable prints one line per instance, each method's evaluations
// beside SciPy's, then the totals over the instances both converged on and
// how many instances each side needed fewer evaluations on.
func printTable(w io.Writer, rows []row, detail bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"instance", "n"}
	for _, m := range methods {
		head = append(head, m.name, m.scipy)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	k := len(methods)
	ours, theirs := make([]int, k), make([]int, k)
	fewer, more, fails, sfails := make([]int, k), make([]int, k), make([]int, k), make([]int, k)
	for _, r := range rows {
		cells := []string{r.instance, fmt.Sprint(r.n)}
		for i := range methods {
			o, s := r.ours[i], r.scipy[i]
			cells = append(cells, cell(o.Func, o.Grad, o.Hess, o.converged, detail), cell(s.fun, s.grad, s.hess, s.converged, detail))
			switch {
			case !o.converged:
				fails[i]++
			case !s.converged:
				sfails[i]++
			default:
				ours[i] += o.Func
				theirs[i] += s.fun
				if o.Func < s.fun {
					fewer[i]++
				} else if o.Func > s.fun {
					more[i]++
				}
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	total := []string{"total where both converged", ""}
	score := []string{"fewer / more evaluations", ""}
	failed := []string{"not converged", ""}
	for i := range methods {
		total = append(total, fmt.Sprint(ours[i]), fmt.Sprint(theirs[i]))
		score = append(score, fmt.Sprint(fewer[i]), fmt.Sprint(more[i]))
		failed = append(failed, fmt.Sprint(fails[i]), fmt.Sprint(sfails[i]))
	}
	for _, line := range [][]string{total, score, failed} {
		fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
	}
	tw.Flush()
}

// cell formats a count, marked "fail" when the run did not converge.
func cell(f, g, h int, converged, detail bool) string {
	s := fmt.Sprint(f)
	if detail {
		s = fmt.Sprintf("%d/%d/%d", f, g, h)
	}
	if !converged {
		s = "fail " + s
	}
	return s
}
