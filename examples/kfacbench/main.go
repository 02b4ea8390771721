package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/curvkit/curvkit/internal/tune"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kfacbench:", err)
		os.Exit(2)
	}
}

// run is the whole program, callable from tests.
func run(args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	prob, err := loadProblem(cfg, stdout)
	if err != nil {
		return err
	}
	out, undo, err := tune.PrepareOut(cfg.out, cfg.force, "kfacbench", outputNames)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo() // leave no empty folder behind
		}
	}()
	fmt.Fprintf(stdout, "%s: %d training and %d held-out samples, network %s (%d parameters), %s loss, batch %d, task %s\n",
		prob.name, prob.train.Len(), prob.test.Len(), prob.describe(), prob.model.Net.NumParams(), prob.model.Loss.Name(), cfg.batch, cfg.task)
	if prob.scaling != "" {
		fmt.Fprintln(stdout, prob.scaling)
	}
	fmt.Fprintln(stdout, memoryNote(prob, cfg.maxMemory))
	if slices.ContainsFunc(cfg.optimizers, func(o string) bool { return strings.HasPrefix(o, "kfac") }) {
		fmt.Fprintln(stdout, cfg.kfacNote())
	}

	b := bench(cfg, prob)
	prog := tune.NewProgress(stdout)
	target, results, err := b.Race(stdout, prog, tune.Plan{
		Optimizers: cfg.optimizers, Grid: cfg.grid, Flag: func(name string) string { return gridFlag(name) + "-lrs" },
		Target: cfg.target, TargetSet: cfg.targetSet,
	})
	if err != nil {
		return err
	}
	files, err := b.Files(target, results)
	if err != nil {
		return err
	}
	paths, err := tune.Write(out, files, nil, outputNames)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(paths, ", "))
	return nil
}

// outputNames are the files a run writes into its folder.
var outputNames = tune.Outputs
