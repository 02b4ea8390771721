package verify

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Check is one verified property.
type Check struct {
	Name string  // what was checked, e.g. "JVP w.r.t. input vs finite differences"
	Err  float64 // the measured relative error (or statistic)
	Tol  float64 // the largest Err that passes
}

// Pass reports whether the check passed; a NaN error fails.
func (c Check) Pass() bool { return c.Err <= c.Tol }

// Report is the outcome of a verification.
type Report struct {
	Subject string
	Checks  []Check
}

func (r *Report) add(name string, err, tol float64) {
	r.Checks = append(r.Checks, Check{Name: name, Err: err, Tol: tol})
}

// Err returns nil when every check passed, and otherwise an error naming
// the failures.
func (r *Report) Err() error {
	var failed []string
	for _, c := range r.Checks {
		if !c.Pass() {
			failed = append(failed, fmt.Sprintf("%s (error %.3g > %.3g)", c.Name, c.Err, c.Tol))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("verify: %s failed %d of %d checks: %s", r.Subject, len(failed), len(r.Checks), strings.Join(failed, "; "))
}

// String returns the report as a table.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Subject)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  check\terror\ttolerance\tresult")
	for _, c := range r.Checks {
		res := "ok"
		if !c.Pass() {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "  %s\t%.2e\t%.0e\t%s\n", c.Name, c.Err, c.Tol, res)
	}
	tw.Flush()
	return b.String()
}
