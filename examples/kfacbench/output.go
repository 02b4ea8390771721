package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/curvkit/curvkit/curvature/data"
)

// prepareOut returns the output folder: dir if given (refusing a non-empty
// one without force), otherwise the first kfac-out-N that does not exist.
func prepareOut(dir string, force bool) (string, error) {
	if dir == "" {
		for i := 1; ; i++ {
			dir = fmt.Sprintf("kfac-out-%d", i)
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				break
			}
		}
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", err
	case len(entries) > 0 && !force:
		return "", fmt.Errorf("-out %s is not empty; choose another folder or add -force", dir)
	}
	return dir, os.MkdirAll(dir, 0o755)
}

func outputFiles(dir string) []string {
	return []string{filepath.Join(dir, "runs.csv"), filepath.Join(dir, "loss_steps.png"), filepath.Join(dir, "loss_seconds.png")}
}

// writeOutputs writes runs.csv and the two plots.
func writeOutputs(dir string, p *problem, target float64, results []*result) error {
	if err := writeRuns(filepath.Join(dir, "runs.csv"), results); err != nil {
		return err
	}
	if err := plotLoss(filepath.Join(dir, "loss_steps.png"), "training loss against steps", "step", p, target, results, func(r evalRow) float64 { return float64(r.Step) }); err != nil {
		return err
	}
	return plotLoss(filepath.Join(dir, "loss_seconds.png"), "training loss against optimizer time", "seconds", p, target, results, func(r evalRow) float64 { return r.Seconds })
}

// writeRuns writes one row per evaluation, atomically.
func writeRuns(path string, results []*result) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"optimizer", "step", "wall_seconds", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "learning_rate", "damping"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range results {
		for _, row := range r.rows {
			_ = w.Write([]string{r.optimizer, strconv.Itoa(row.Step), f(row.Seconds), f(row.TrainLoss), f(row.TestLoss),
				f(row.TrainAcc), f(row.TestAcc), f(row.LearningRate), f(row.Lambda)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes data to path atomically, so a crash never leaves half
// a file.
func writeAtomic(path string, b []byte) error {
	return data.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// plotLoss draws the training loss of every run against x, one line each,
// and the target as a dashed line.
func plotLoss(path, title, xlabel string, p *problem, target float64, results []*result, x func(evalRow) float64) error {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("%s: %s", p.name, title)
	pl.X.Label.Text = xlabel
	pl.Y.Label.Text = "training loss (" + p.model.Loss.Name() + ")"
	// The first evaluations dwarf the rest (the loss falls by a factor of
	// three in ten steps): start the axis at the highest loss after the
	// first evaluated steps.
	pl.Legend.Top = true
	top := 0.0
	for _, r := range results {
		if len(r.rows) > 1 && r.rows[1].TrainLoss < 1e300 {
			top = max(top, r.rows[1].TrainLoss)
		}
	}
	if top > 0 {
		pl.Y.Max = top
	}
	for i, r := range results {
		pts := make(plotter.XYs, 0, len(r.rows))
		for _, row := range r.rows {
			if row.TrainLoss < 1e300 && (top == 0 || row.TrainLoss <= top) {
				pts = append(pts, plotter.XY{X: x(row), Y: row.TrainLoss})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		pl.Add(line)
		pl.Legend.Add(r.label(), line)
	}
	goal := plotter.NewFunction(func(float64) float64 { return target })
	goal.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	goal.Color = color.Gray{Y: 100}
	pl.Add(goal)
	pl.Legend.Add("target", goal)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 220}
	grid.Horizontal.Color = color.Gray{Y: 220}
	pl.Add(grid)
	var buf bytes.Buffer
	wt, err := pl.WriterTo(7*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(&buf); err != nil {
		return err
	}
	return writeAtomic(path, buf.Bytes())
}
