package main

import (
	"flag"
	"io"

	"github.com/curvkit/curvkit/examples/internal/command"
)

func main() {
	s := defaults()
	flag.StringVar(&s.Out, "out", "approxerror-out", "output `directory`")
	flag.IntVar(&s.Steps, "steps", s.Steps, "Adam steps")
	flag.IntVar(&s.Every, "every", s.Every, "measure every `k` steps (and at the first and last)")
	flag.Uint64Var(&s.Seed, "seed", s.Seed, "seed of the initialisation, the batches and the evaluation batch")
	command.Main("approxerror", func(w io.Writer) error { return run(s, w) })
}
