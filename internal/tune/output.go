package tune

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

// Outputs are the files Files renders: the evaluations and two plots.
var Outputs = []string{"runs.csv", "loss_steps.png", "loss_seconds.png"}

// PrepareOut returns the output folder, dir if given (refusing one that
// holds files without force), otherwise the first prefix-out-N that does
// not exist, and creates it. Temporary files that a killed run left for
// the outputs named do not count as files. undo removes the folders it
// created, for a run that ends in an error before writing into them.
func PrepareOut(dir string, force bool, prefix string, outputs []string) (out string, undo func(), err error) {
	if dir == "" {
		for i := 1; ; i++ {
			dir = fmt.Sprintf("%s-out-%d", prefix, i)
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				break
			}
		}
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", nil, err
	case !force:
		stale, err := data.StaleTemps(dir, outputs...)
		if err != nil {
			return "", nil, err
		}
		if len(entries) > len(stale) {
			return "", nil, fmt.Errorf("-out %s is not empty; choose another folder or add -force", dir)
		}
	}
	// The folders MkdirAll will create, deepest first.
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			break
		}
		created = append(created, d)
	}
	undo = func() {
		for _, d := range created {
			_ = os.Remove(d) // only empty folders go
		}
	}
	return dir, undo, os.MkdirAll(dir, 0o755)
}

// Files renders runs.csv and the two plots of Outputs.
func (b *Bench) Files(target float64, results []*Result) ([]data.File, error) {
	runs, err := b.RunsCSV(results)
	if err != nil {
		return nil, err
	}
	steps, err := b.plotLoss("training loss against steps", "step", target, results, func(r Row) float64 { return float64(r.Step) })
	if err != nil {
		return nil, err
	}
	secs, err := b.plotLoss("training loss against optimizer time", "seconds", target, results, func(r Row) float64 { return r.Seconds })
	if err != nil {
		return nil, err
	}
	var files []data.File
	for i, c := range [][]byte{runs, steps, secs} {
		files = append(files, Bytes(Outputs[i], c))
	}
	return files, nil
}

// Bytes returns the file of the given name and contents.
func Bytes(name string, b []byte) data.File {
	return data.File{Name: name, Write: func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}}
}

// Write writes files into dir as one set (data.WriteFiles: a failure
// writes nothing, a crash never mixes them with a previous run's),
// removing the files named in remove, and returns their paths; then the
// temporary files that killed runs left for names go.
func Write(dir string, files []data.File, remove []string, names []string) ([]string, error) {
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, f.Name))
	}
	if err := data.WriteFiles(dir, files, remove...); err != nil {
		return nil, err
	}
	if err := data.RemoveStaleTemps(dir, names...); err != nil {
		return nil, err
	}
	return paths, nil
}

// RunsCSV returns runs.csv: one row per evaluation. A value a run does not
// have — the metric of a problem without one, the learning rate of K-FAC,
// the damping of a first-order method — is NaN, as in every CSV the
// toolkit writes.
func (b *Bench) RunsCSV(results []*Result) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	m := b.Metric.Name
	_ = w.Write([]string{"optimizer", "step", "wall_seconds", "train_loss", "test_loss", "train_" + m, "test_" + m, "learning_rate", "damping"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range results {
		for _, row := range r.Rows {
			_ = w.Write([]string{r.Optimizer, strconv.Itoa(row.Step), f(row.Seconds), f(row.TrainLoss), f(row.TestLoss),
				f(row.TrainMetric), f(row.TestMetric), f(row.LearningRate), f(row.Lambda)})
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// plotLoss draws, as a PNG, the training loss of every run against x, one
// line each, and the target as a dashed line.
func (b *Bench) plotLoss(title, xlabel string, target float64, results []*Result, x func(Row) float64) ([]byte, error) {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("%s: %s", b.Name, title)
	pl.X.Label.Text = xlabel
	pl.Y.Label.Text = "training loss (" + b.Model.Loss.Name() + ")"
	// The first evaluations dwarf the rest (the loss falls by a factor of
	// three in ten steps): start the axis at the highest loss after the
	// first evaluated steps.
	pl.Legend.Top = true
	top := 0.0
	for _, r := range results {
		if len(r.Rows) > 1 && r.Rows[1].TrainLoss < 1e300 {
			top = max(top, r.Rows[1].TrainLoss)
		}
	}
	if top > 0 {
		pl.Y.Max = top
	}
	for i, r := range results {
		pts := make(plotter.XYs, 0, len(r.Rows))
		for _, row := range r.Rows {
			if row.TrainLoss < 1e300 && (top == 0 || row.TrainLoss <= top) {
				pts = append(pts, plotter.XY{X: x(row), Y: row.TrainLoss})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		pl.Add(line)
		pl.Legend.Add(r.Label(), line)
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
		return nil, err
	}
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
