package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/curvkit/curvkit/examples/internal/command"
)

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// cli runs the command with the arguments after the program name and
// returns its exit status: 2 for a usage error, 1 when a run fails.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trustbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "run only the instances whose names match this regular expression")
	maxIter := fs.Int("maxiter", 5000, "iteration cap per run, rejected trials included (SciPy's runs had 5000)")
	detail := fs.Bool("detail", false, "print gradient and Hessian evaluations too, as f/∇f/∇²f")
	scipySettings := fs.Bool("scipy-settings", false, "run with SciPy's settings where ours differ (maximum radius 1000, Exact.HardTol 0.2, Steihaug.Forcing 0.5)")
	if !command.Parse(fs, args) {
		return 2
	}
	if *maxIter <= 0 {
		fmt.Fprintf(stderr, "trustbench: -maxiter %d: must be positive\n", *maxIter)
		return 2
	}
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintf(stderr, "trustbench: -only: %v\n", err)
		return 2
	}
	rows, err := measure(re, *maxIter, *scipySettings)
	if err != nil {
		fmt.Fprintln(stderr, "trustbench:", err)
		return 1
	}
	if len(rows) == 0 {
		fmt.Fprintf(stderr, "trustbench: no instance matches %q\n", *only)
		return 2
	}
	settings := "our defaults"
	if *scipySettings {
		settings = "SciPy's settings"
	}
	fmt.Fprintf(stdout, "Function evaluations to ‖∇f‖∞ < %g (cap %d iterations, %s); SciPy %s beside each method.\n\n", gradTol, *maxIter, settings, scipyVersion)
	printTable(stdout, rows, *detail)
	return 0
}
