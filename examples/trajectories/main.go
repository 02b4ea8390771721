package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	out := flag.String("out", "trajectories-out", "directory for the PNG and CSV files")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

// run writes one PNG per problem and trajectories.csv into dir.
func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "trajectories.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"function", "optimizer", "lr", "step", "x", "y", "f"})
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

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
		png := filepath.Join(dir, p.name+".png")
		if err := drawProblem(p, paths, png); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println("wrote", dir)
	return nil
}
