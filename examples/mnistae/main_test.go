package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// mnist reads MNIST once for all the tests (loadMNIST is replaced by
// it), and skips a test when MNIST is not in the module cache (`go mod
// download` puts it there).
var mnist struct {
	sync.Once
	train, test *data.Set
	err         error
}

func needMNIST(t *testing.T) {
	t.Helper()
	mnist.Do(func() { mnist.train, mnist.test, mnist.err = data.MNIST("") })
	if mnist.err != nil {
		t.Skip(mnist.err)
	}
	loadMNIST = func(string) (*data.Set, *data.Set, error) { return mnist.train, mnist.test, nil }
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}

// A run on a small budget (784-32-8-32-784, 300 images, 30 steps) prints a
// table that runs.csv bears out, and the losses it reports are those of
// the parameters it saves:
//   - each optimizer's last train_loss and test_loss, recomputed from
//     params_NAME.csv on the first 300 training and 100 test images, and
//     its squared error recomputed by hand;
//   - the target printed is reached by a tuned baseline (the best one's
//     final run repeats its tuning run, same seed and batches);
//   - per optimizer, "steps to target" is the first evaluation in
//     runs.csv at or below the target (its seconds that row's), "never"
//     if none, and "steps run" its last evaluation.
func TestRun(t *testing.T) {
	needMNIST(t)
	sizes := []int{784, 32, 8, 32, 784}
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-sizes", "784,32,8,32,784", "-train", "300", "-test", "100", "-batch", "50", "-steps", "30",
		"-eval-every", "5", "-adam-lrs", "0.003,0.01", "-sgd-lrs", "0.01", "-save-params", "-out", dir}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	out := stdout.String()

	m := regexp.MustCompile(`target training loss (\S+): the best a tuned first-order baseline`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	target := parse(t, m[1])

	f, err := os.Open(filepath.Join(dir, "runs.csv"))
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	require.Equal(t, []string{"optimizer", "step", "wall_seconds", "train_loss", "test_loss", "train_squared_error", "test_squared_error", "learning_rate", "damping"}, rows[0])
	byOpt := map[string][][]string{}
	for _, r := range rows[1:] {
		byOpt[r[0]] = append(byOpt[r[0]], r)
	}

	net, err := nn.NewMLP(sizes, activations(sizes))
	require.NoError(t, err)
	tape := nn.NewTape(net, nn.SigmoidBCE{})
	xTrain := mnist.train.X.Slice(0, 300, 0, 784).(*mat.Dense)
	xTest := mnist.test.X.Slice(0, 100, 0, 784).(*mat.Dense)
	baselineReached := false
	for _, opt := range []string{"kfac", "adam", "sgd"} {
		rs := byOpt[opt]
		require.NotEmpty(t, rs, opt)
		last := rs[len(rs)-1]

		pf, err := os.Open(filepath.Join(dir, paramsName(opt)))
		require.NoError(t, err)
		theta, err := data.ReadMatrix(pf)
		pf.Close()
		require.NoError(t, err)
		th := theta.RawMatrix().Data
		require.Len(t, th, net.NumParams())
		for _, c := range []struct {
			x          *mat.Dense
			loss, sqer string
		}{{xTrain, last[3], last[5]}, {xTest, last[4], last[6]}} {
			z := tape.Forward(th, c.x)
			assert.InEpsilon(t, tape.LossValue(c.x), parse(t, c.loss), 1e-12, opt)
			r, k := z.Dims()
			var se float64
			for i := 0; i < r; i++ {
				for j := 0; j < k; j++ {
					d := 1/(1+math.Exp(-z.At(i, j))) - c.x.At(i, j)
					se += d * d
				}
			}
			assert.InEpsilon(t, se/float64(r), parse(t, c.sqer), 1e-12, opt)
		}

		steps, secs := "never", "–"
		for _, r := range rs {
			if parse(t, r[3]) <= target {
				steps, secs = r[1], fmt.Sprintf("%.2f", parse(t, r[2]))
				if opt != "kfac" {
					baselineReached = true
				}
				break
			}
		}
		label := opt
		if opt != "kfac" {
			label = fmt.Sprintf("%s lr=%g", opt, parse(t, last[7]))
		}
		line := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(\S+)\s+(\S+)\s+\S+\s+(\d+)\s`).FindStringSubmatch(out)
		require.NotNil(t, line, "no table line for %s in\n%s", label, out)
		assert.Equal(t, steps, line[1], "%s: steps to target", opt)
		assert.Equal(t, secs, line[2], "%s: seconds to target", opt)
		assert.Equal(t, last[1], line[3], "%s: steps run", opt)
	}
	assert.True(t, baselineReached, "the tuned baseline's own run reaches its best loss")
}

// Bad flags are refused before MNIST is read, with the flag named; a
// network too large for the memory budget too.
func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-sizes", "784,30"}, "odd number"},
		{[]string{"-sizes", "784,30,30,784"}, "odd number"},
		{[]string{"-sizes", "700,30,700"}, "784"},
		{[]string{"-sizes", "784,x,784"}, "-sizes"},
		{[]string{"-sizes", "784,0,784"}, "-sizes"},
		{[]string{"-init", "zeros"}, "-init"},
		{[]string{"-train", "0"}, "-train"},
		{[]string{"-train", "60001"}, "-train"},
		{[]string{"-test", "10001"}, "-test"},
		{[]string{"-batch", "-1"}, "-batch"},
		{[]string{"-optimizers", "kfac"}, "no first-order baseline"},
		{[]string{"-optimizers", "kfac,lbfgs"}, "lbfgs"},
		{[]string{"-optimizers", "adam,adam"}, "twice"},
		{[]string{"-adam-lrs", "0.1,-1"}, "-adam-lrs"},
		{[]string{"-momentum", "1"}, "-momentum"},
		{[]string{"-momentum", "0"}, "-nesterov"},
		{[]string{"-l2", "NaN"}, "-l2"},
		{[]string{"-seed", "-1"}, "-seed"},
		{[]string{"stray"}, "unexpected"},
		{[]string{"-sizes", "784,1000000,784"}, "over the budget"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			loadMNIST = func(string) (*data.Set, *data.Set, error) {
				t.Fatal("MNIST read before the flags were checked")
				return nil, nil, nil
			}
			out := filepath.Join(t.TempDir(), "out")
			err := run(append(c.args, "-out", out), io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NoDirExists(t, out)
		})
	}
	loadMNIST = data.MNIST
}

// The code layer (the middle size) and the output are linear, the rest
// logistic.
func TestActivations(t *testing.T) {
	assert.Equal(t, []string{"sigmoid", "sigmoid", "sigmoid", "identity", "sigmoid", "sigmoid", "sigmoid", "identity"},
		activations([]int{784, 1000, 500, 250, 30, 250, 500, 1000, 784}))
	assert.Equal(t, []string{"identity", "identity"}, activations([]int{784, 30, 784}))
}

// The sparse initialisation gives each unit exactly min(15, inputs)
// non-zero incoming weights, standard normal (mean 0 and variance 1
// within 5 standard errors over the 15,000 weights of the first layer),
// and zero biases.
func TestSparseInit(t *testing.T) {
	sizes := []int{784, 1000, 10, 784}
	net, err := nn.NewMLP(sizes, []string{"sigmoid", "identity", "identity"})
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	for i := range theta {
		theta[i] = math.NaN() // every entry must be written
	}
	sparseInit(sizes, theta, newRand())
	var ws []float64
	l := 0 // the parameterised layers are the MLP's affine maps, in order
	for k := range net.Layers {
		w := net.LayerParams(theta, k)
		if len(w) == 0 {
			continue
		}
		l++
		in, out := sizes[l-1], sizes[l]
		require.Len(t, w, out*(in+1), "layer %d", k)
		for o := 0; o < out; o++ {
			row := w[o*(in+1) : (o+1)*(in+1)]
			nz := 0
			for _, v := range row[:in] {
				if v != 0 {
					nz++
					if l == 1 {
						ws = append(ws, v)
					}
				}
			}
			require.Equal(t, min(15, in), nz, "layer %d unit %d", k, o)
			require.Zero(t, row[in], "bias of layer %d unit %d", k, o)
		}
	}
	require.Equal(t, len(sizes)-1, l)
	require.Len(t, ws, 15000)
	var mean, sq float64
	for _, v := range ws {
		mean += v
		sq += v * v
	}
	mean /= 15000
	variance := sq/15000 - mean*mean
	assert.InDelta(t, 0, mean, 5/math.Sqrt(15000))
	assert.InDelta(t, 1, variance, 5*math.Sqrt(2.0/15000))
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }
