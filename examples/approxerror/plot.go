package main

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// lineStyle gives each approximation the same colour and dashes in every
// panel (Tableau's categorical colours).
var lineStyle = map[string]struct {
	c    color.RGBA
	dash []vg.Length
}{
	"diagonal":              {color.RGBA{127, 127, 127, 255}, nil},
	"block_diagonal":        {color.RGBA{31, 119, 180, 255}, nil},
	"kronecker_optimal":     {color.RGBA{44, 160, 44, 255}, []vg.Length{vg.Points(5), vg.Points(3)}},
	"kfac":                  {color.RGBA{214, 39, 40, 255}, nil},
	"ekfac":                 {color.RGBA{255, 127, 14, 255}, nil},
	"tonga":                 {color.RGBA{148, 103, 189, 255}, nil},
	"neuron_block_diagonal": {color.RGBA{148, 103, 189, 255}, []vg.Length{vg.Points(2), vg.Points(2)}},
}

// order is the legend order.
var order = []string{"diagonal", "block_diagonal", "kronecker_optimal", "kfac", "ekfac", "neuron_block_diagonal", "tonga"}

// drawErrors draws four panels: the relative Frobenius error of each
// approximation against the GGN, the empirical Fisher and the Hessian, by
// step, and the loss on the evaluation batch. It returns the function that
// writes them as a PNG.
func drawErrors(points []point, s settings) (func(io.Writer) error, error) {
	panels := []struct{ matrix, title string }{
		{"ggn", "error against the GGN (= Fisher)"},
		{"empirical_fisher", "error against the empirical Fisher"},
		{"hessian", "error against the Hessian"},
	}
	var plots []*plot.Plot
	for _, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "Adam step"
		p.Y.Label.Text = "‖approximation − M‖_F / ‖M‖_F"
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		p.Legend.Top = false // the errors lie above 0.3: room below
		p.Legend.Left = false
		p.Legend.ThumbnailWidth = vg.Points(22)
		for _, name := range order {
			var xys plotter.XYs
			for _, pt := range points {
				if v, ok := pt.frob[pn.matrix][name]; ok {
					xys = append(xys, plotter.XY{X: float64(pt.step), Y: v})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, sc, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			st := lineStyle[name]
			l.Color, l.Width, l.Dashes = st.c, vg.Points(1.6), st.dash
			sc.Color, sc.Radius, sc.Shape = st.c, vg.Points(2), draw.CircleGlyph{}
			p.Add(l, sc)
			p.Legend.Add(name, l)
		}
		p.Y.Max = max(p.Y.Max, 1.05)
		plots = append(plots, p)
	}

	lp := plot.New()
	lp.Title.Text = fmt.Sprintf("loss on the %d evaluation samples", s.Eval)
	lp.X.Label.Text = "Adam step"
	lp.Y.Label.Text = "mean softmax cross-entropy"
	lp.Add(plotter.NewGrid())
	var xys plotter.XYs
	for _, pt := range points {
		xys = append(xys, plotter.XY{X: float64(pt.step), Y: pt.loss})
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, err
	}
	l.Width = vg.Points(1.6)
	sc.Radius, sc.Shape = vg.Points(2), draw.CircleGlyph{}
	lp.Add(l, sc)
	lp.Y.Min = 0
	plots = append(plots, lp)

	const rows, cols = 2, 2
	img := vgimg.NewWith(vgimg.UseWH(13*vg.Inch, 9*vg.Inch), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(18), PadY: vg.Points(18),
		PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	grid := [][]*plot.Plot{{plots[0], plots[1]}, {plots[2], plots[3]}}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			grid[r][c].Draw(canvases[r][c])
		}
	}
	return func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	}, nil
}
