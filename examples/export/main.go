package main

import (
	"flag"
	"io"

	"github.com/curvkit/curvkit/examples/internal/command"
)

func main() {
	var c config
	flag.StringVar(&c.Model, "model", "", "model `file` (JSON: input_shape and layers, or sizes and activations; loss, params)")
	flag.StringVar(&c.Data, "data", "", "data `file` (CSV without header: inputs then target per row)")
	flag.StringVar(&c.Out, "out", "", "output `directory` (created if missing)")
	flag.StringVar(&c.KFAC, "kfac", "exact", "K-FAC factor `kind`: exact, mc or empirical")
	flag.IntVar(&c.Samples, "samples", 1, "sampled labels per input for -kfac mc")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed of the sampled labels for -kfac mc")
	command.Main("export", func(w io.Writer) error { return run(c, w) })
}
