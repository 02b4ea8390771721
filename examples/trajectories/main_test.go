package main

import (
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range problems() {
		f, err := os.Open(filepath.Join(dir, p.name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s.png: %v", p.name, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
			t.Errorf("%s.png is %v", p.name, b)
		}
	}
	f, err := os.Open(filepath.Join(dir, "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 1000 || rows[0][0] != "function" || len(rows[0]) != 7 {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
}

// TestSaddleEscape checks what docs/firstorder.md reports from the saddle
// picture: with the same learning rate, the adaptive methods leave the
// saddle (y > 0.5) within 200 steps, plain SGD and Adagrad do not, and the
// momentum methods first overshoot the saddle point in x.
func TestSaddleEscape(t *testing.T) {
	p := problems()[2]
	escaped := map[string]bool{}
	minX := map[string]float64{}
	for _, m := range methods() {
		pa := best(p, m, p.steps)
		minX[m.name] = pa.x[0]
		for k := range pa.x {
			escaped[m.name] = escaped[m.name] || pa.y[k] > 0.5
			minX[m.name] = min(minX[m.name], pa.x[k])
		}
	}
	for _, name := range []string{"Momentum", "Nesterov", "RMSprop", "Adam", "AdaMax", "NAdam", "AdaBelief"} {
		if !escaped[name] {
			t.Errorf("%s did not escape the saddle", name)
		}
	}
	for _, name := range []string{"SGD", "Adagrad"} {
		if escaped[name] {
			t.Errorf("%s escaped the saddle", name)
		}
	}
	for _, name := range []string{"Momentum", "Nesterov"} {
		if minX[name] > -0.1 {
			t.Errorf("%s did not overshoot the saddle point: min x = %v", name, minX[name])
		}
	}
}
