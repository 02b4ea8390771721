package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var c config
	flag.StringVar(&c.Model, "model", "", "model `file` (JSON: input_shape and layers, or sizes and activations; loss, params)")
	flag.StringVar(&c.Data, "data", "", "data `file` (CSV without header: inputs then target per row)")
	flag.StringVar(&c.Out, "out", "", "output `directory` (created if missing)")
	flag.StringVar(&c.KFAC, "kfac", "exact", "K-FAC factor `kind`: exact, mc or empirical")
	flag.IntVar(&c.Samples, "samples", 1, "sampled labels per input for -kfac mc")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed of the sampled labels for -kfac mc")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "export: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
}
