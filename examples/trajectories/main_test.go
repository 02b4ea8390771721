package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvkit/curvkit/internal/killtest"
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

func TestMain(m *testing.M) {
	killtest.Helper(func(dir, _ string) error { return run(dir) })
	os.Exit(m.Run())
}

// TestKillLoop kills runs of the command at random moments: every file in
// the output directory is always complete — the CSV a complete run's
// bytes (the command has no settings, so every run writes the same table),
// each PNG an image that decodes to a complete run's size (the contour
// plot can differ in a pixel between processes) — and a run that
// completes leaves no temporary file, its own or one a killed run left.
func TestKillLoop(t *testing.T) {
	ref := t.TempDir()
	if err := run(ref); err != nil {
		t.Fatal(err)
	}
	table, err := os.ReadFile(filepath.Join(ref, "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	bounds := map[string]image.Rectangle{}
	for _, p := range problems() {
		bounds[p.name+".png"] = decodePNG(t, filepath.Join(ref, p.name+".png")).Bounds()
	}
	want := []map[string][][]byte{{"trajectories.csv": {table}}}
	const runs = 8
	completed := killtest.Loop{
		Dir: t.TempDir(), Variants: []string{""}, Runs: runs, Seed: 1, Outputs: outputs(),
		Check: func(dir string) error {
			files, err := killtest.Files(dir)
			if err != nil {
				return err
			}
			for name, b := range files {
				if want, ok := bounds[name]; ok {
					img, err := png.Decode(bytes.NewReader(b))
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					if img.Bounds() != want {
						return fmt.Errorf("%s is %v, want %v", name, img.Bounds(), want)
					}
					delete(files, name)
				}
			}
			return killtest.Match(files, want, nil)
		},
	}.Run(t)
	t.Logf("%d of %d runs completed", completed, runs)
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Stray arguments are a usage error, and nothing is written.
func TestUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{{"extra"}, {"-out", dir, "extra"}, {"-nosuchflag"}} {
		var stderr strings.Builder
		if code := cli(args, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), "Usage of trajectories") {
			t.Errorf("%q: no usage in %q", args, stderr.String())
		}
	}
	var stderr strings.Builder
	cli([]string{"-out", dir, "extra"}, &stderr)
	if !strings.Contains(stderr.String(), `trajectories: unexpected arguments ["extra"]`) {
		t.Errorf("stderr %q", stderr.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the output directory was created: %v", err)
	}
}
