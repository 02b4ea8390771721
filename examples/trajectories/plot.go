package main

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// colors are Tableau's ten categorical colours, one per optimizer.
var colors = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

// grid samples a function on a regular grid for the contour plot.
type grid struct {
	x, y []float64
	z    [][]float64 // z[r][c] = f(x[c], y[r])
}

func newGrid(p problem, n int) grid {
	g := grid{x: make([]float64, n), y: make([]float64, n), z: make([][]float64, n)}
	for i := range n {
		g.x[i] = p.x0 + (p.x1-p.x0)*float64(i)/float64(n-1)
		g.y[i] = p.y0 + (p.y1-p.y0)*float64(i)/float64(n-1)
	}
	for r := range n {
		g.z[r] = make([]float64, n)
		for c := range n {
			g.z[r][c] = p.f([]float64{g.x[c], g.y[r]})
		}
	}
	return g
}

func (g grid) Dims() (c, r int)   { return len(g.x), len(g.y) }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64    { return g.x[c] }
func (g grid) Y(r int) float64    { return g.y[r] }

// levels returns contour levels for g: geometric between the smallest
// positive and the largest value when all are ≥ 0, evenly spaced otherwise.
func levels(g grid, k int) []float64 {
	lo, hi, minPos := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, row := range g.z {
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
			if v > 0 {
				minPos = min(minPos, v)
			}
		}
	}
	out := make([]float64, k)
	for i := range out {
		t := float64(i) / float64(k-1)
		if lo >= 0 {
			out[i] = minPos * math.Pow(hi/minPos, t)
		} else {
			out[i] = lo + (hi-lo)*t
		}
	}
	return out
}

// drawProblem draws the paths over the contours of p, with a legend to the
// right of the plot, and returns the function that writes it as a PNG.
func drawProblem(p problem, paths []path) (func(io.Writer) error, error) {
	pl := plot.New()
	pl.Title.Text = p.title
	pl.X.Label.Text, pl.Y.Label.Text = "x", "y"

	g := newGrid(p, 200)
	c := plotter.NewContour(g, levels(g, 24), palette.Heat(24, 1))
	for i := range c.LineStyles {
		c.LineStyles[i].Width = vg.Points(0.4)
	}
	pl.Add(c)

	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(3)
	legend.ThumbnailWidth = vg.Points(20)
	for i, pa := range paths {
		xys := make(plotter.XYs, len(pa.x))
		for j := range pa.x {
			xys[j].X, xys[j].Y = pa.x[j], pa.y[j]
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = colors[i%len(colors)]
		line.Width = vg.Points(1.4)
		pl.Add(line)
		legend.Add(fmt.Sprintf("%s (lr %g)", pa.method, pa.lr), line)
	}
	start, err := plotter.NewScatter(plotter.XYs{{X: p.start[0], Y: p.start[1]}})
	if err != nil {
		return nil, err
	}
	start.GlyphStyle.Shape = draw.CircleGlyph{}
	start.GlyphStyle.Radius = vg.Points(3.5)
	target, err := plotter.NewScatter(plotter.XYs{{X: p.min[0], Y: p.min[1]}})
	if err != nil {
		return nil, err
	}
	target.GlyphStyle.Shape = draw.CrossGlyph{}
	target.GlyphStyle.Radius = vg.Points(6)
	pl.Add(start, target)
	legend.Add("start", start)
	legend.Add(p.minLabel, target)

	// The window is fixed after adding the plotters, which widen it to
	// their data; the paths are clipped to it.
	pl.X.Min, pl.X.Max, pl.Y.Min, pl.Y.Max = p.x0, p.x1, p.y0, p.y1

	const w, h, legendWidth = 19 * vg.Centimeter, 13 * vg.Centimeter, 5 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	pl.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	legend.Draw(draw.Crop(dc, w-legendWidth+vg.Points(6), 0, 0, -vg.Points(30)))

	return func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	}, nil
}
