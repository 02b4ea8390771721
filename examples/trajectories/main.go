package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/examples/internal/command"
)

func main() { os.Exit(cli(os.Args[1:], os.Stderr)) }

// cli runs the command with the arguments after the program name and
// returns its exit status: 2 for a usage error, 1 when the run fails.
func cli(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("trajectories", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "trajectories-out", "directory for the PNG and CSV files")
	if !command.Parse(fs, args) {
		return 2
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(stderr, "trajectories:", err)
		return 1
	}
	return 0
}

// outputs are the names of the files run writes.
func outputs() []string {
	names := []string{"trajectories.csv"}
	for _, p := range problems() {
		names = append(names, p.name+".png")
	}
	return names
}

// run writes one PNG per problem and trajectories.csv into dir, all
// together once every path is known (data.WriteFiles): a run cut short
// leaves the previous run's files, or some of this run's, each complete.
func run(dir string) error {
	var table bytes.Buffer
	w := csv.NewWriter(&table)
	w.Write([]string{"function", "optimizer", "lr", "step", "x", "y", "f"})
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

	var files []data.File
	for _, p := range problems() {
		var paths []path
		for _, m := range methods() {
			pa := best(p, m, p.steps)
			paths = append(paths, pa)
			for k := range pa.x {
				w.Write([]string{p.name, pa.method, num(pa.lr), strconv.Itoa(k), num(pa.x[k]), num(pa.y[k]), num(pa.f[k])})
			}
			fmt.Printf("%-7s %-9s lr %-6g f %.3g → %.3g after %d steps\n",
				p.name, pa.method, pa.lr, pa.f[0], pa.f[len(pa.f)-1], len(pa.f)-1)
		}
		png, err := drawProblem(p, paths)
		if err != nil {
			return err
		}
		files = append(files, data.File{Name: p.name + ".png", Write: png})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	files = append([]data.File{{Name: "trajectories.csv", Write: func(f io.Writer) error {
		_, err := f.Write(table.Bytes())
		return err
	}}}, files...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := data.WriteFiles(dir, files); err != nil {
		return err
	}
	if err := data.RemoveStaleTemps(dir, outputs()...); err != nil {
		return err
	}
	fmt.Println("wrote", dir)
	return nil
}
