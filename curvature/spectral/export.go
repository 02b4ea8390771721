package spectral

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/curvkit/curvkit/curvature/data"
)

// WriteCSV writes the broadened density as CSV with the header x,density
// and one grid point a line, in the shortest decimal form that reads back
// exactly (pandas.read_csv, polars.read_csv and R's read.csv read it).
func (d *Density) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("x,density\n")
	var buf []byte
	for i, x := range d.X {
		buf = strconv.AppendFloat(buf[:0], x, 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, d.Y[i], 'g', -1, 64)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}

// SaveCSV writes the CSV of WriteCSV to path atomically: to a temporary
// file in the same directory, renamed over path only when complete, so a
// reader never sees a partial file.
func (d *Density) SaveCSV(path string) error {
	return writeAtomic(path, d.WriteCSV)
}

// Plot returns a gonum plot of the broadened density against the
// eigenvalue, to be customised or saved.
func (d *Density) Plot(title string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "eigenvalue"
	p.Y.Label.Text = "density"
	xys := make(plotter.XYs, len(d.X))
	for i := range d.X {
		xys[i].X, xys[i].Y = d.X[i], d.Y[i]
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("spectral: %w", err)
	}
	line.Width = vg.Points(1.2)
	p.Add(line)
	return p, nil
}

// SavePNG draws the density (see Plot) as a 16 cm × 10 cm PNG at path,
// written atomically.
func (d *Density) SavePNG(path, title string) error {
	p, err := d.Plot(title)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(16*vg.Centimeter, 10*vg.Centimeter, "png")
	if err != nil {
		return fmt.Errorf("spectral: %w", err)
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

// writeAtomic writes path through fill atomically (data.WriteFileAtomic).
func writeAtomic(path string, fill func(io.Writer) error) error {
	if err := data.WriteFileAtomic(path, fill); err != nil {
		return fmt.Errorf("spectral: writing %s: %w", path, err)
	}
	return nil
}
