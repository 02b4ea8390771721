package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/tune"
)

// TestMain runs the command itself when a test starts this binary as a
// child process with its arguments in KFACBENCH_ARGS (TestKilledRuns).
func TestMain(m *testing.M) {
	if args := os.Getenv("KFACBENCH_ARGS"); args != "" {
		if err := run(strings.Split(args, "\x1f"), io.Discard, io.Discard); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var runsHeader = []string{"optimizer", "step", "wall_seconds", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "learning_rate", "damping"}

// readRuns reads runs.csv, checking that every row is complete.
func readRuns(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	assert.Equal(t, runsHeader, rows[0])
	return rows[1:]
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}

// A short run of each task writes the table, runs.csv with a row per
// evaluation of each optimizer, and both plots; the numbers in runs.csv
// are the ones the table prints (checkTable). A value a run does not have
// (accuracy when autoencoding, a first-order method's damping) is NaN, not
// 0. The convolutional task runs both K-FACs by default.
func TestRun(t *testing.T) {
	for _, c := range []struct {
		task       string
		optimizers []string
	}{
		{"autoencode", []string{"kfac", "adam", "sgd"}},
		{"classify", []string{"kfac", "adam", "sgd"}},
		{"cnn", []string{"kfac", "kfac-reduce", "adam", "sgd"}},
		{"resmlp", []string{"kfac", "adam", "sgd"}},
	} {
		t.Run(c.task, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			err := run([]string{"-task", c.task, "-steps", "40", "-eval-every", "10", "-train", "300",
				"-adam-lrs", "0.003,0.01", "-sgd-lrs", "0.03", "-out", dir}, &stdout, &stderr)
			require.NoError(t, err, stderr.String())
			out := stdout.String()
			assert.Contains(t, out, "target training loss")
			assert.Contains(t, out, "steps to target")
			assert.Contains(t, out, "task "+c.task)
			for _, f := range outputNames {
				st, err := os.Stat(filepath.Join(dir, f))
				require.NoError(t, err)
				assert.Positive(t, st.Size())
			}
			rows := readRuns(t, filepath.Join(dir, "runs.csv"))
			seen := map[string]int{}
			for _, r := range rows {
				seen[r[0]]++
				assert.Positive(t, parse(t, r[3]))
				for _, acc := range r[5:7] {
					if c.task != "autoencode" {
						a := parse(t, acc)
						assert.True(t, a >= 0 && a <= 1, acc)
					} else {
						assert.Equal(t, "NaN", acc)
					}
				}
				if strings.HasPrefix(r[0], "kfac") {
					assert.Positive(t, parse(t, r[8]))
					assert.Equal(t, "NaN", r[7], "K-FAC has no learning rate")
				} else {
					assert.Equal(t, "NaN", r[8], "a first-order method has no damping")
					assert.Positive(t, parse(t, r[7]))
				}
			}
			assert.Len(t, seen, len(c.optimizers))
			for _, o := range c.optimizers {
				assert.GreaterOrEqual(t, seen[o], 2, o)
			}
			checkTable(t, out, rows, c.task != "autoencode")
		})
	}
}

// checkTable checks the table a run printed against its runs.csv: the
// target, printed with every digit, is the lowest training loss of a
// baseline's run (its tuned run, repeated with the same batches, meets
// it to the bit); each optimizer's steps and seconds to the target are
// those of its first evaluation at or below it, its steps run, final
// losses and accuracies those of its last evaluation, its ms/step its
// seconds over its steps; and the ratios printed for K-FAC are those of
// these figures against the fastest baseline.
func checkTable(t *testing.T, out string, rows [][]string, metric bool) {
	t.Helper()
	_, rest, ok := strings.Cut(out, "target training loss ")
	require.True(t, ok, out)
	target := parse(t, strings.Fields(strings.TrimSuffix(rest[:strings.Index(rest, " ")], ":"))[0])
	byOpt := map[string][][]string{}
	var order []string
	for _, r := range rows {
		if byOpt[r[0]] == nil {
			order = append(order, r[0])
		}
		byOpt[r[0]] = append(byOpt[r[0]], r)
	}
	bestBaseline := math.Inf(1)
	for _, o := range []string{"adam", "sgd"} {
		for _, r := range byOpt[o] {
			bestBaseline = min(bestBaseline, parse(t, r[3]))
		}
	}
	assert.Equal(t, bestBaseline, target, "the target is a baseline's best training loss")

	_, table, ok := strings.Cut(out, "steps to target")
	require.True(t, ok)
	lines := strings.Split(table, "\n")[1:]
	type reached struct{ steps, secs float64 }
	first := map[string]reached{}
	for i, o := range order {
		runs := byOpt[o]
		f := strings.Fields(lines[i])
		label := f[0]
		if strings.HasPrefix(f[1], "lr=") {
			label, f = f[0]+" "+f[1], append(f[:1:1], f[2:]...)
			assert.Equal(t, "lr="+runs[0][7], strings.Fields(label)[1])
		}
		require.Equal(t, o, strings.Fields(label)[0], lines[i])
		last := runs[len(runs)-1]
		steps := parse(t, last[1])
		want := []string{fmt.Sprintf("%.2f", 1000*parse(t, last[2])/steps), last[1],
			fmt.Sprintf("%.6g", parse(t, last[3])), fmt.Sprintf("%.6g", parse(t, last[4]))}
		if metric {
			want = append(want, fmt.Sprintf("%.3f", parse(t, last[5])), fmt.Sprintf("%.3f", parse(t, last[6])))
		}
		hit := slices.IndexFunc(runs, func(r []string) bool { return parse(t, r[3]) <= target })
		if hit < 0 {
			want = append([]string{"never", "–"}, want...)
		} else {
			first[o] = reached{parse(t, runs[hit][1]), parse(t, runs[hit][2])}
			want = append([]string{runs[hit][1], fmt.Sprintf("%.2f", first[o].secs)}, want...)
		}
		assert.Equal(t, want, f[1:], "table row of %s", o)
	}
	var base string
	for _, o := range []string{"adam", "sgd"} {
		if r, ok := first[o]; ok && (base == "" || r.secs < first[base].secs) {
			base = o
		}
	}
	for _, o := range order {
		name, ok := map[string]string{"kfac": "K-FAC", "kfac-reduce": "K-FAC (reduce)"}[o]
		r, reachedIt := first[o]
		if !ok || !reachedIt || base == "" || r.steps == 0 {
			continue
		}
		line := fmt.Sprintf("%s reached the target in %.1f× fewer steps and %.1f× less time than %s lr=",
			name, first[base].steps/r.steps, first[base].secs/r.secs, base)
		assert.Contains(t, out, line)
	}
}

// The same seed gives the same numbers (wall-clock columns aside).
func TestReproducible(t *testing.T) {
	losses := func() []string {
		dir := filepath.Join(t.TempDir(), "out")
		var stdout, stderr bytes.Buffer
		require.NoError(t, run([]string{"-steps", "20", "-train", "300", "-optimizers", "kfac,adam", "-adam-lrs", "0.01,0.03", "-out", dir}, &stdout, &stderr))
		b, err := os.ReadFile(filepath.Join(dir, "runs.csv"))
		require.NoError(t, err)
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ",")
			out = append(out, strings.Join(append(f[:2:2], f[3:]...), ","))
		}
		return out
	}
	assert.Equal(t, losses(), losses())
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("1,2,0\n3,4\n"), 0o644))
	nonEmpty := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(nonEmpty, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-task", "regress"}, "-task"},
		{[]string{"-optimizers", "lbfgs"}, "unknown"},
		{[]string{"-optimizers", "kfac,hf"}, "no first-order baseline"},
		{[]string{"-batch", "0"}, "-batch"},
		{[]string{"-damping", "-1"}, "-damping"},
		{[]string{"-sizes", "64,x,64"}, "-sizes"},
		{[]string{"-sizes", "64"}, "at least one layer"},
		{[]string{"-sizes", "64,16,63"}, "63"},
		{[]string{"-activations", "swish"}, "swish"},
		{[]string{"-factors", "kflr"}, "-factors"},
		{[]string{"-train", "5000"}, "held-out"},
		{[]string{"-train", "0"}, "-train"},
		{[]string{"-train", "1.5"}, "-train"},
		{[]string{"-max-memory", "0"}, "-max-memory"},
		{[]string{"-data", bad}, "bad.csv:2"},
		{[]string{"-data", filepath.Join(dir, "missing.csv")}, "missing.csv"},
		{[]string{"-out", nonEmpty}, "-force"},
		{[]string{"-adam-lrs", "0.1,-1"}, "-adam-lrs"},
		{[]string{"-optimizers", "kfac,adam,kfac"}, "twice"},
		{[]string{"-task", "classify", "-mnist"}, "-mnist trains -task cnn"},
		{[]string{"-task", "cnn", "-mnist", "-data", bad}, "give one"},
		{[]string{"-task", "cnn", "-data", bad}, "not on -data"},
		{[]string{"-task", "cnn", "-sizes", "64,10"}, "fixed network"},
		{[]string{"-task", "resmlp", "-activations", "relu"}, "fixed network"},
		{[]string{"-task", "cnn", "-test", "100"}, "for -mnist"},
		{[]string{"-task", "cnn", "-mnist", "-test", "0"}, "-test 0"},
		{[]string{"-task", "cnn", "-mnist", "-mnist-dir", filepath.Join(dir, "none")}, "go mod download"},
		{[]string{"-task", "cnn", "-decay", "1"}, "-decay"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append(c.args, "-steps", "2"), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// writeMNIST writes the first n of the digits as MNIST's four idx files
// (both parts the same images), each 8×8 digit drawn 3× larger in the
// middle of a 28×28 image, and returns their folder.
func writeMNIST(t *testing.T, n int) string {
	t.Helper()
	digits, err := data.Digits()
	require.NoError(t, err)
	idx := func(dims []int, b []byte) []byte {
		out := []byte{0, 0, 8, byte(len(dims))} // unsigned bytes
		for _, d := range dims {
			out = binary.BigEndian.AppendUint32(out, uint32(d))
		}
		return append(out, b...)
	}
	img, lab := make([]byte, n*28*28), make([]byte, n)
	for i := range n {
		lab[i] = byte(digits.Label(i))
		for y := range 24 {
			for x := range 24 {
				img[i*784+(y+2)*28+x+2] = byte(255 * digits.X.At(i, (y/3)*8+x/3))
			}
		}
	}
	dir := t.TempDir()
	for _, part := range []string{"train", "t10k"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, part+"-images-idx3-ubyte"), idx([]int{n, 28, 28}, img), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, part+"-labels-idx1-ubyte"), idx([]int{n}, lab), 0o644))
	}
	return dir
}

// -task cnn -mnist trains the LeNet-style net on 28×28 images through
// data.MNIST (here a folder of 300 digits drawn as MNIST images, so that
// the test needs neither MNIST nor its 60,000 images' time): both K-FACs
// and the tuned baselines, the table agreeing with runs.csv.
func TestRunMNIST(t *testing.T) {
	dir := writeMNIST(t, 300)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"-task", "cnn", "-mnist", "-mnist-dir", dir, "-train", "200", "-test", "100", "-steps", "20", "-batch", "64",
		"-adam-lrs", "0.003,0.01", "-sgd-lrs", "0.1", "-out", out}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "MNIST: 200 training and 100 held-out samples, network 1×28×28 conv5×5×6")
	assert.Contains(t, stdout.String(), "(44426 parameters)") // docs/benchmarks.md's count
	rows := readRuns(t, filepath.Join(out, "runs.csv"))
	checkTable(t, stdout.String(), rows, true)
	assert.Equal(t, "kfac-reduce", rows[slices.IndexFunc(rows, func(r []string) bool { return r[0] != "kfac" })][0])

	var errOut bytes.Buffer
	err := run([]string{"-task", "cnn", "-mnist", "-mnist-dir", dir, "-steps", "2"}, io.Discard, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-train 10000: MNIST has 300 training images")
}

// writeSet writes a data set as a CSV file with the given first line (a
// header) and returns its path.
func writeSet(t *testing.T, name, header string, s *data.Set) string {
	t.Helper()
	var buf bytes.Buffer
	if header != "" {
		buf.WriteString(header + "\n")
	}
	require.NoError(t, data.WriteCSV(&buf, s))
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

// Sizes inferred from the data or asked for are checked before anything
// is allocated: a mistyped label in an iris file does not make two
// million classes, and a network beyond -max-memory is refused with its
// estimate. Either, unchecked, would allocate tens of gigabytes.
func TestAbsurdSizesRefused(t *testing.T) {
	iris, err := data.Iris()
	require.NoError(t, err)
	const header = "150,4,setosa,versicolor,virginica" // as the file is shipped
	good := writeSet(t, "iris.csv", header, iris)
	iris.Y.Set(70, 0, 2000000)
	iris.Classes, iris.Names = 0, nil // a regression set may hold any number
	typo := writeSet(t, "typo.csv", "", iris)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"mistyped label", []string{"-data", typo}, "label 2000000 of data row 71 would make 2000001 classes, more than the 150 rows"},
		// P ≈ 10¹⁰: 16·2·8·P bytes = 2.3 TiB; K-FAC's Σ out² + (in+1)² ≈
		// 4·10¹⁰ floats, 4 copies for 2 runs: 2.3 TiB.
		{"huge layers", []string{"-data", good, "-sizes", "4,100000,100000,3"}, "needs about 4.7 TiB (parameters and optimizer state 2.3 TiB, K-FAC factors 2.3 TiB"},
		{"small budget", []string{"-max-memory", "1"}, "more than -max-memory 1 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			err := run(append(c.args, "-steps", "2", "-out", out), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NoDirExists(t, out)
		})
	}
	// The estimate for the default run is the one printed (and small).
	var stdout bytes.Buffer
	require.NoError(t, run([]string{"-data", good, "-steps", "2", "-out", filepath.Join(t.TempDir(), "out")}, &stdout, io.Discard))
	assert.Contains(t, stdout.String(), "memory: about ")
}

// A user's CSV as it comes: a header line, 178 rows, labels in the last
// column. The header is detected and skipped, 0.8 of the rows train, the
// task is classification (the file has labels) and the standardisation
// of the inputs is said; -task autoencode says the labels are ignored.
func TestUserCSV(t *testing.T) {
	digits, err := data.Digits()
	require.NoError(t, err)
	idx := make([]int, 178)
	for i := range idx {
		idx[i] = i
	}
	names := make([]string, 65)
	for j := range 64 {
		names[j] = fmt.Sprintf("px_%d", j)
	}
	names[64] = "class_0"
	path := writeSet(t, "wine-shaped.csv", strings.Join(names, ","), digits.Subset(idx))
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{`line 1 is a header ("px_0" is not a number)`, "142 training and 36 held-out samples", "network 64-32-10", "task classify",
			"inputs standardised to the training rows' mean and standard deviation"}},
		{[]string{"-task", "autoencode"}, []string{"task autoencode", "network 64-48-32-16-32-48-64", "the class labels ignored"}},
		{[]string{"-train", "100"}, []string{"100 training and 78 held-out samples"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"-data", path, "-steps", "10", "-adam-lrs", "0.01", "-sgd-lrs", "0.1", "-out", filepath.Join(t.TempDir(), "out")}, c.args...)
			require.NoError(t, run(args, &stdout, &stderr))
			for _, w := range c.want {
				assert.Contains(t, stdout.String(), w)
			}
		})
	}
	var stdout bytes.Buffer
	err = run([]string{"-data", path, "-train", "1500", "-steps", "2"}, &stdout, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-train 0.8")
}

// A best rate at an end of its grid is flagged with the flag to widen.
func TestGridEdge(t *testing.T) {
	var stdout bytes.Buffer
	require.NoError(t, run([]string{"-steps", "20", "-train", "300", "-optimizers", "kfac,adam", "-adam-lrs", "0.0001,0.0003", "-out", filepath.Join(t.TempDir(), "out")}, &stdout, io.Discard))
	assert.Contains(t, stdout.String(), "note: adam's best rate 0.0003 is the largest of its grid; a better one may lie beyond it (widen -adam-lrs)")
}

// A baseline that drives the training loss to exactly 0 sets the target
// 0 (a separable two-class problem; SGD at rate 1000 saturates the
// softmax in one step), and an explicit -target 0 needs no baseline.
func TestZeroTarget(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var buf bytes.Buffer
	for i := range 40 {
		sign := float64(2*(i%2) - 1)
		fmt.Fprintf(&buf, "%.3f,%d\n", sign*(1+rng.Float64()), i%2)
	}
	path := filepath.Join(t.TempDir(), "separable.csv")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"-data", path, "-sizes", "1,2", "-optimizers", "kfac,sgd", "-sgd-lrs", "1000", "-momentum", "0",
		"-steps", "30", "-out", filepath.Join(t.TempDir(), "out")}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "target training loss 0: the best a tuned first-order baseline reaches")

	stdout.Reset()
	require.NoError(t, run([]string{"-optimizers", "kfac", "-target", "0", "-steps", "10", "-train", "300", "-out", filepath.Join(t.TempDir(), "out")}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "target training loss 0\n")
}

// A run that fails after choosing its output folder removes the folders
// it created: here every baseline diverges, so nothing sets the target.
func TestNoEmptyOutOnError(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "new", "out")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-optimizers", "kfac,sgd", "-sgd-lrs", "1e308", "-steps", "20", "-train", "300", "-out", out}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "diverged")
	assert.NoDirExists(t, filepath.Join(base, "new"))
}

// checkOutputs checks that every output in dir is complete: runs.csv
// parses with a full row for each evaluation, and each plot decodes.
func checkOutputs(t *testing.T, dir string, optimizers ...string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "runs.csv")); err == nil {
		seen := map[string]bool{}
		for _, r := range readRuns(t, filepath.Join(dir, "runs.csv")) {
			seen[r[0]] = true
		}
		for _, o := range optimizers {
			assert.True(t, seen[o], "runs.csv has no %s rows", o)
		}
	}
	for _, name := range outputNames[1:] {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		_, err = png.Decode(f)
		f.Close()
		assert.NoError(t, err, name)
	}
}

// Temporary files that killed runs left for our outputs do not make the
// folder "not empty", and a successful run removes them; other files stay.
func TestStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	var stale []string
	for _, name := range outputNames {
		f, err := os.CreateTemp(dir, "."+name+".tmp*") // as data.WriteFileAtomic names them
		require.NoError(t, err)
		fmt.Fprint(f, "half a fi")
		require.NoError(t, f.Close())
		stale = append(stale, f.Name())
	}
	args := []string{"-steps", "10", "-train", "300", "-optimizers", "kfac,adam", "-adam-lrs", "0.01", "-out", dir}
	require.NoError(t, run(args, io.Discard, io.Discard))
	for _, f := range stale {
		assert.NoFileExists(t, f)
	}
	checkOutputs(t, dir, "kfac", "adam")

	mine := filepath.Join(dir, ".notes.txt.tmp123")
	require.NoError(t, os.WriteFile(mine, nil, 0o644))
	require.NoError(t, run(append(args, "-force"), io.Discard, io.Discard))
	assert.FileExists(t, mine)
}

// Runs killed at random moments (the child process runs the command) never
// leave a truncated file: every output present is complete. The next run
// that succeeds leaves no temporary file behind.
func TestKilledRuns(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("starts processes, slowly under -short or the race detector")
	}
	dir := t.TempDir()
	args := strings.Join([]string{"-steps", "30", "-train", "300", "-optimizers", "kfac,adam", "-adam-lrs", "0.01", "-force", "-out", dir}, "\x1f")
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "KFACBENCH_ARGS="+args)
		return cmd
	}
	start := time.Now()
	out, err := child().CombinedOutput()
	require.NoError(t, err, string(out))
	whole := time.Since(start)
	rng := rand.New(rand.NewPCG(1, 1))
	for range 8 {
		cmd := child()
		require.NoError(t, cmd.Start())
		// Most of a run is training; aim at its end, where it writes.
		time.Sleep(time.Duration((0.5 + 0.6*rng.Float64()) * float64(whole)))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		checkOutputs(t, dir, "kfac", "adam")
	}
	out, err = child().CombinedOutput()
	require.NoError(t, err, string(out))
	checkOutputs(t, dir, "kfac", "adam")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, outputNames, names)
}

// The memory estimate counts what grows with the network: doubling the
// hidden layer of a one-hidden-layer net doubles the parameters' share,
// and the per-layer blocks only count for ng-block. A convolution's
// factors are over its patches, and its unfolded patches count with the
// activations.
func TestEstimateMemory(t *testing.T) {
	c := &config{batch: 10, optimizers: []string{"adam"}}
	estimate := func(sizes []int) memory {
		net, err := nn.NewMLP(sizes, []string{"tanh", "identity"})
		require.NoError(t, err)
		return estimateMemory(c, net, 100, 50)
	}
	small := estimate([]int{4, 10, 3})
	large := estimate([]int{4, 20, 3})
	// P = 10·5 + 3·11 = 83 and 20·5 + 3·21 = 163; 16 vectors, 2 runs, 8 bytes.
	assert.Equal(t, 8*2*16*83.0, small.params)
	assert.Equal(t, 8*2*16*163.0, large.params)
	// Units 17, evaluation on max(100, 50) rows twice, 8 batch tapes of 10.
	assert.Equal(t, 8*2*17*(2*100+8*10.0), small.activations)
	assert.Zero(t, small.factors+small.blocks)
	c.optimizers = []string{"kfac", "ng-block"}
	m := estimate([]int{4, 10, 3})
	// Σ out² + (in+1)² = 100 + 25 + 9 + 121; Σ (out(in+1))² = 50² + 33².
	assert.Equal(t, 8*2*4*255.0, m.factors)
	assert.Equal(t, 8*2*2*(50*50+33*33.0), m.blocks)
	assert.False(t, math.IsNaN(m.total()))

	// A 2×5×5 input, conv 3×3 → 4×3×3 (R = 9 positions, q = 19), tanh,
	// flatten, then 36 → 2; a residual block whose LayerNorm has 4
	// parameters, an exact 4×4 block.
	net, err := nn.New(nn.Conv2d{In: 2, Out: 4, H: 5, W: 5, Kernel: [2]int{3, 3}}, nn.Elementwise{Size: 36, Act: nn.Tanh{}},
		nn.Flatten{C: 4, H: 3, W: 3}, nn.Dense{In: 36, Out: 2}, nn.Residual(nn.LayerNorm{Size: 2}))
	require.NoError(t, err)
	c.optimizers = []string{"kfac-reduce"}
	m = estimateMemory(c, net, 100, 50)
	// Factors 4² + 19² + 2² + 37² + 4²; units: 50 inputs, the outputs of
	// conv, flatten, dense and layer norm; in the batch tapes 9·19 patch
	// entries too.
	assert.Equal(t, 8*2*4*(16+361+4+1369+16.0), m.factors)
	units := 50 + 36 + 36 + 2 + 2.0
	assert.Equal(t, 8*2*(units*2*100+(units+9*19)*8*10), m.activations)
	// Evaluations take at most tune.EvalRows rows at once.
	assert.Equal(t, 8*2*(units*2*tune.EvalRows+(units+9*19)*8*10), estimateMemory(c, net, 60000, 100).activations)
	assert.Equal(t, 8*2*16*(4*19+2*37+4.0), m.params)
}

// Each task takes its own grids and K-FAC settings; a flag given
// overrides its setting and no other.
func TestTaskSettings(t *testing.T) {
	for _, c := range []struct {
		args    []string
		spec    taskSpec
		damping float64
	}{
		{nil, tasks["autoencode"], 1e-2},
		{[]string{"-task", "classify"}, tasks["classify"], 1e-2},
		{[]string{"-task", "cnn"}, tasks["cnn"], 1e-3},
		{[]string{"-task", "cnn", "-mnist"}, tasks["cnn-mnist"], 1e-3},
		{[]string{"-task", "resmlp"}, tasks["resmlp"], 1e-2},
		{[]string{"-task", "cnn", "-damping", "0.05"}, tasks["cnn"], 0.05},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cfg, err := parseFlags(c.args, io.Discard)
			require.NoError(t, err)
			k := c.spec.kfac
			assert.Equal(t, c.damping, cfg.damping)
			assert.Equal(t, []any{k.factors, k.decay, k.statsInterval, k.statsFraction, k.modelFraction, k.inverseInterval, k.dampingInterval},
				[]any{cfg.factors.String(), cfg.decay, cfg.statsInterval, cfg.statsFraction, cfg.modelFraction, cfg.inverseInterval, cfg.dampingInterval})
			assert.Equal(t, splitList(c.spec.optimizers), cfg.optimizers)
			lrs, err := parseFloats(c.spec.adamLRs)
			require.NoError(t, err)
			assert.Equal(t, lrs, cfg.adamLRs)
			lrs, err = parseFloats(c.spec.sgdLRs)
			require.NoError(t, err)
			assert.Equal(t, lrs, cfg.sgdLRs)
		})
	}
}

// Without a convolution every layer has one position (R = 1), where the
// expanded and the reduced factors are the same: kfac and kfac-reduce take
// the same steps on the residual MLP, to the bit. On the CNN they differ.
func TestReduceWithoutConvolutions(t *testing.T) {
	losses := func(task string) map[string][]string {
		dir := filepath.Join(t.TempDir(), "out")
		require.NoError(t, run([]string{"-task", task, "-optimizers", "kfac,kfac-reduce", "-target", "0", "-steps", "20", "-eval-every", "5",
			"-train", "300", "-out", dir}, io.Discard, io.Discard))
		out := map[string][]string{}
		for _, r := range readRuns(t, filepath.Join(dir, "runs.csv")) {
			out[r[0]] = append(out[r[0]], r[3], r[4], r[8])
		}
		return out
	}
	res := losses("resmlp")
	require.Len(t, res["kfac"], 15)
	assert.Equal(t, res["kfac"], res["kfac-reduce"])
	cnn := losses("cnn")
	require.Len(t, cnn["kfac"], 15)
	assert.Equal(t, cnn["kfac"][:3], cnn["kfac-reduce"][:3], "the same start")
	assert.NotEqual(t, cnn["kfac"][3:], cnn["kfac-reduce"][3:])
}
