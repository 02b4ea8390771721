// Command approxerror trains a small network on the digits with Adam and,
// every few steps, measures how far each curvature approximation of package
// approx is from the exact matrices: the diagonal, the per-layer
// block-diagonal, K-FAC, EKFAC and the Kronecker-optimal layer blocks
// against the Hessian, the GGN and the empirical Fisher, and an online TONGA
// against the empirical Fisher. It appends every number to one tidy CSV and
// draws the relative Frobenius errors against the training step.
//
//	go run ./examples/approxerror [-out DIR] [-steps N] [-every K] [-seed S]
//
// writes DIR/errors.csv (step,matrix,approximation,metric,value),
// DIR/loss.csv and DIR/errors.png. See README.md.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	s := defaults()
	flag.StringVar(&s.Out, "out", "approxerror-out", "output `directory`")
	flag.IntVar(&s.Steps, "steps", s.Steps, "Adam steps")
	flag.IntVar(&s.Every, "every", s.Every, "measure every `k` steps (and at the first and last)")
	flag.Uint64Var(&s.Seed, "seed", s.Seed, "seed of the initialisation, the batches and the evaluation batch")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "approxerror: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	if err := run(s, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "approxerror:", err)
		os.Exit(1)
	}
}
