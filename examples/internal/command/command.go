// Package command holds what the example commands share around their
// numbers: the handling of their command lines and the memory table they
// print before building anything.
package command

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
)

// Main runs a command that takes flags only: it parses the program's flags,
// exits with status 2 if positional arguments remain, then calls run with
// standard output and exits with status 1 if it fails. Messages go to
// standard error, prefixed by name.
func Main(name string, run func(stdout io.Writer) error) {
	flag.Parse()
	if !noArgs(flag.CommandLine, name) {
		os.Exit(2)
	}
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Parse parses args with fs, which should continue on error, and reports
// whether the command may go on: false, after the message and fs's usage on
// fs's output, when a flag is wrong or positional arguments remain, for
// which a command exits with status 2.
func Parse(fs *flag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	return noArgs(fs, fs.Name())
}

// noArgs reports whether fs left no positional argument, and if it did says
// so on fs's output with fs's usage.
func noArgs(fs *flag.FlagSet, name string) bool {
	if fs.NArg() == 0 {
		return true
	}
	fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", name, fs.Args())
	fs.Usage()
	return false
}

// PrintMemory writes, under the heading "memory before building", the
// float64 values and bytes that mem gives for each of the dense matrices,
// dense of them, and for the approximations named in rows, right-aligned.
// A row is an approximation's name as the examples' CSV files write it
// (diagonal, block_diagonal, neuron_block_diagonal, kronecker_optimal,
// kfac, ekfac, tonga), optionally followed by a note such as
// "(each of 2)"; a name outside that list panics.
func PrintMemory(w io.Writer, mem approx.Memory, dense int, rows ...string) error {
	floats := map[string]int{
		"diagonal":              mem.Diagonal,
		"block_diagonal":        mem.LayerBlocks,
		"neuron_block_diagonal": mem.NeuronBlocks,
		"kronecker_optimal":     mem.KFAC,
		"kfac":                  mem.KFAC,
		"ekfac":                 mem.EKFAC,
		"tonga":                 mem.TONGA,
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "memory before building\tfloats\tbytes\t")
	line := func(name string, n int) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", name, n, curvature.SizeOfFloats(n))
	}
	line(fmt.Sprintf("dense P² (each of %d matrices)", dense), mem.Dense)
	for _, r := range rows {
		name, _, _ := strings.Cut(r, " ")
		n, ok := floats[name]
		if !ok {
			panic(fmt.Sprintf("command: no memory for %q", name))
		}
		line(r, n)
	}
	return tw.Flush()
}
