package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kfac:", err)
		os.Exit(2)
	}
}

// run is the whole program, callable from tests.
func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	prob, err := loadProblem(cfg)
	if err != nil {
		return err
	}
	out, err := prepareOut(cfg.out, cfg.force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d training and %d held-out samples, network %s (%d parameters), %s loss, batch %d\n",
		prob.name, prob.train.Len(), prob.test.Len(), prob.describe(), prob.model.Net.NumParams(), prob.model.Loss.Name(), cfg.batch)

	fmt.Fprintln(stdout, memoryNote(prob))

	prog := newProgress(stdout)
	var tuned []*result
	for _, name := range cfg.optimizers {
		if grid := cfg.grid(name); len(grid) > 1 || (cfg.target == 0 && baselines[name]) {
			best, all, err := tune(cfg, prob, name, grid, prog)
			if err != nil {
				return err
			}
			printTuning(stdout, name, all)
			tuned = append(tuned, best)
		}
	}
	target := cfg.target
	if target == 0 {
		target = bestBaseline(tuned)
		if target == 0 {
			return errors.New("no baseline to set the target: give -target or include a first-order optimizer")
		}
		fmt.Fprintf(stdout, "target training loss %.6g: the best a tuned first-order baseline reaches in %d steps\n", target, cfg.steps)
	}

	var results []*result
	for _, name := range cfg.optimizers {
		lr := 0.0
		if grid := cfg.grid(name); len(grid) == 1 {
			lr = grid[0]
		}
		for _, r := range tuned {
			if r.optimizer == name {
				lr = r.lr
			}
		}
		r, err := train(cfg, prob, name, lr, target, true, prog)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	printTable(stdout, prob, target, results)
	if err := writeOutputs(out, prob, target, results); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(outputFiles(out), ", "))
	return nil
}
