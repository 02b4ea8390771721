// Package command holds what the example commands share around their
// numbers: the handling of their command lines and the memory table they
// print before building anything.
package command

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

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

// Memory is a row of a memory table: what is built, and the float64 values
// it holds.
type Memory struct {
	Name   string
	Floats int
}

// PrintMemory writes the table of rows, the floats and their size in bytes
// right-aligned, under the heading "memory before building".
func PrintMemory(w io.Writer, rows []Memory) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "memory before building\tfloats\tbytes\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", r.Name, r.Floats, curvature.SizeOfFloats(r.Floats))
	}
	return tw.Flush()
}
