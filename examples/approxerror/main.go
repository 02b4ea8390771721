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
