package main

import (
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/killtest"
)

// tiny is a run small enough for the dense matrices: P = 64·2+2 + 2·10+10
// = 160 parameters, and Steps = P, so every probe's Krylov space is the
// whole space and the extreme nodes are eigenvalues.
var tiny = settings{Hidden: 2, Samples: 30, Train: 20, LR: 0.5, Steps: 160, Probes: 16, Seed: 3}

// TestRunTiny runs the command on a tiny case and checks its files against
// the dense matrices, which package curvature assembles independently of
// the matrix-free products the command uses: the densities integrate to 1,
// their means are Hutchinson's estimates of tr(M)/P (the Gauss quadrature
// is exact for f(x) = x), within 4 standard deviations of the closed-form
// variance, and the printed extreme eigenvalues are the dense ones.
func TestRunTiny(t *testing.T) {
	s := tiny
	s.Out = filepath.Join(t.TempDir(), "out")
	var out strings.Builder
	require.NoError(t, run(s, &out))
	require.NoError(t, run(s, io.Discard), "a second run replaces the files")
	entries, err := os.ReadDir(s.Out)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"density.csv", "density.png"}, names, "no temporary file left behind")

	f, err := os.Open(filepath.Join(s.Out, "density.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"matrix", "eigenvalue", "density"}, rows[0])
	xs, ys := map[string][]float64{}, map[string][]float64{}
	for _, r := range rows[1:] {
		x, err := strconv.ParseFloat(r[1], 64)
		require.NoError(t, err)
		y, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		require.False(t, math.IsNaN(y) || math.IsInf(y, 0) || y < 0, "%v", r)
		xs[r[0]] = append(xs[r[0]], x)
		ys[r[0]] = append(ys[r[0]], y)
	}
	assert.Len(t, xs, len(matrices))

	m, theta, b, err := problem(s, io.Discard)
	require.NoError(t, err)
	P := float64(len(theta))
	for _, kind := range matrices {
		x, y := xs[kind.String()], ys[kind.String()]
		require.Len(t, x, 1000, "%v: the default grid", kind)
		var mass, mean float64
		for j := 1; j < len(x); j++ {
			require.Greater(t, x[j], x[j-1])
			h := x[j] - x[j-1]
			mass += h * (y[j] + y[j-1]) / 2
			mean += h * (x[j]*y[j] + x[j-1]*y[j-1]) / 2
		}
		// The grid reaches 6σ past the outermost nodes and is 0.1σ fine:
		// the trapezoid rule is exact to far below 1e-6 on the Gaussians.
		assert.InDelta(t, 1, mass, 1e-6, "%v: mass", kind)

		dense, err := m.Dense(kind, theta, b, nil)
		require.NoError(t, err)
		var tr, off2 float64
		for i := 0; i < len(theta); i++ {
			tr += dense.At(i, i)
			for j := 0; j < len(theta); j++ {
				if i != j {
					off2 += dense.At(i, j) * dense.At(i, j)
				}
			}
		}
		// Var(zᵀMz) = 2 Σ_{i≠j} M_ij² for Rademacher z; the mean is
		// (1/Probes) Σ zᵀMz / P.
		sd := math.Sqrt(2*off2/float64(s.Probes)) / P
		t.Logf("%v: tr/P %.6g mean %.6g sd %.3g", kind, tr/P, mean, sd)
		assert.InDelta(t, tr/P, mean, 4*sd+1e-9*math.Abs(tr/P), "%v: mean eigenvalue", kind)

		var eig mat.EigenSym
		require.True(t, eig.Factorize(dense, false))
		vals := eig.Values(nil)
		lo, hi := extremes(t, out.String(), kind.String())
		top := vals[len(vals)-1]
		// Printed to 4 digits.
		assert.InDelta(t, vals[0], lo, 5e-4*math.Abs(vals[0])+1e-12*top, "%v: smallest eigenvalue", kind)
		assert.InDelta(t, top, hi, 5e-4*top, "%v: largest eigenvalue", kind)
	}

	pf, err := os.Open(filepath.Join(s.Out, "density.png"))
	require.NoError(t, err)
	defer pf.Close()
	img, err := png.Decode(pf)
	require.NoError(t, err)
	// 16 cm × 10 cm at gonum/plot's default 96 dpi.
	assert.InDelta(t, 605, img.Bounds().Dx(), 2)
	assert.InDelta(t, 378, img.Bounds().Dy(), 2)
}

func TestRunBadSettings(t *testing.T) {
	for name, edit := range map[string]func(*settings){
		"hidden":   func(s *settings) { s.Hidden = 0 },
		"samples":  func(s *settings) { s.Samples = 5000 },
		"train":    func(s *settings) { s.Train = -1 },
		"lr":       func(s *settings) { s.LR = math.NaN() },
		"steps":    func(s *settings) { s.Steps = 0 },
		"probes":   func(s *settings) { s.Probes = 0 },
		"diverged": func(s *settings) { s.LR = math.MaxFloat64 },
	} {
		t.Run(name, func(t *testing.T) {
			s := tiny
			s.Out = t.TempDir()
			edit(&s)
			assert.Error(t, run(s, io.Discard))
		})
	}
}

// extremes reads the extreme nodes run printed for a matrix.
func extremes(t *testing.T, out, matrix string) (lo, hi float64) {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, matrix+" ") {
			var name string
			_, err := fmt.Sscanf(line, "%s eigenvalues in [%g, %g]", &name, &lo, &hi)
			require.NoError(t, err, line)
			return lo, hi
		}
	}
	t.Fatalf("no line for %s in %q", matrix, out)
	return
}

// killVariants are the runs of the kill loop, told apart by their seeds.
var killVariants = map[string]settings{
	"3": {Hidden: 2, Samples: 30, Train: 20, LR: 0.5, Steps: 20, Probes: 4, Seed: 3},
	"4": {Hidden: 2, Samples: 30, Train: 20, LR: 0.5, Steps: 20, Probes: 4, Seed: 4},
}

// runVariant runs a kill-loop variant into dir.
func runVariant(dir, v string) error {
	s := killVariants[v]
	s.Out = dir
	return run(s, io.Discard)
}

func TestMain(m *testing.M) {
	killtest.Helper(runVariant)
	os.Exit(m.Run())
}

// TestKillLoop kills runs of two settings at random moments into one
// directory: what is there is always files of one complete run, byte for
// byte, and a run that completes leaves no temporary file.
func TestKillLoop(t *testing.T) {
	names := []string{"3", "4"}
	var want []map[string][][]byte
	for _, ref := range killtest.References(t, names, runVariant) {
		require.Len(t, ref, len(outputs))
		want = append(want, killtest.Exact(ref))
	}
	require.NotEqual(t, want[0]["density.csv"], want[1]["density.csv"], "the variants must differ")
	const runs = 30
	completed := killtest.Loop{
		Dir: t.TempDir(), Variants: names, Runs: runs, Seed: 3, Outputs: outputs,
		Check: killtest.CheckFiles(want, nil),
	}.Run(t)
	t.Logf("%d of %d runs completed", completed, runs)
}
