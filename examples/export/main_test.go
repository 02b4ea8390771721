package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/killtest"
)

// modelFile is model.json in the MLP form, for writing test models.
type modelFile struct {
	Sizes       []int      `json:"sizes"`
	Activations []string   `json:"activations"`
	Loss        string     `json:"loss"`
	Params      []*float64 `json:"params"` // pointers, for null
}

// tinyModel is a 3-4-2 tanh network with fixed parameters.
func tinyModel(loss string) modelFile {
	n := 4*(3+1) + 2*(4+1)
	params := make([]*float64, n)
	for i := range params {
		v := 0.7 * math.Sin(1.3*float64(i)+0.4)
		params[i] = &v
	}
	return modelFile{Sizes: []int{3, 4, 2}, Activations: []string{"tanh", "identity"}, Loss: loss, Params: params}
}

// tinyData returns 7 rows: 3 inputs and the targets of the loss.
func tinyData(loss string) string {
	var b strings.Builder
	for i := 0; i < 7; i++ {
		x := []float64{math.Cos(float64(i)), 0.5 * float64(i%3), math.Sin(2 * float64(i))}
		fmt.Fprintf(&b, "%g,%g,%g", x[0], x[1], x[2])
		switch loss {
		case "softmax_ce":
			fmt.Fprintf(&b, ",%d\n", i%2)
		case "sigmoid_bce":
			fmt.Fprintf(&b, ",%d,%g\n", i%2, 0.25*float64(i%5))
		default:
			fmt.Fprintf(&b, ",%g,%g\n", 0.3*float64(i)-1, math.Cos(float64(3*i)))
		}
	}
	return b.String()
}

// writeInputs writes model.json and data.csv into a new directory.
func writeInputs(t *testing.T, mf any, dataCSV string) (model, data string) {
	t.Helper()
	dir := t.TempDir()
	model, data = filepath.Join(dir, "model.json"), filepath.Join(dir, "data.csv")
	raw, err := json.Marshal(mf)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(model, raw, 0o644))
	require.NoError(t, os.WriteFile(data, []byte(dataCSV), 0o644))
	return model, data
}

func readMatrix(t *testing.T, path string) *mat.Dense {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := data.ReadMatrix(f)
	require.NoError(t, err, path)
	return m
}

// The files of a run on a tiny model, read back: every matrix equals what
// curvature.Model.Dense builds (bit for bit: the files round-trip), the
// gradient equals a finite-difference gradient of the loss, the K-FAC
// factors equal approx.ModelKFAC's, and errors.csv has its header, the
// expected comparisons, and values that agree with direct computations.
func TestRunWritesFiles(t *testing.T) {
	for _, c := range []struct{ loss, kfac string }{
		{"softmax_ce", "exact"}, {"mse", "empirical"}, {"sigmoid_bce", "mc"},
	} {
		t.Run(c.loss+"/"+c.kfac, func(t *testing.T) {
			mf := tinyModel(c.loss)
			model, dataPath := writeInputs(t, mf, tinyData(c.loss))
			out := filepath.Join(t.TempDir(), "out")
			var log strings.Builder
			require.NoError(t, run(config{Model: model, Data: dataPath, Out: out, KFAC: c.kfac, Samples: 2, Seed: 3}, &log))
			assert.Contains(t, log.String(), "26 parameters, 7 samples")
			// The memory table: P² = 26² dense, K-FAC 4²+4²+2²+5² (hand counts).
			assert.Regexp(t, `dense P² \(each of 5 matrices\) +676 +5\.3 KiB`, log.String())
			assert.Regexp(t, `kfac +61 +488\.0 B`, log.String())

			lm, err := loadModel(model)
			require.NoError(t, err)
			b, err := loadBatch(dataPath, lm)
			require.NoError(t, err)
			m, theta := lm.model, lm.theta

			// The gradient against central differences of the mean loss.
			g := readMatrix(t, filepath.Join(out, "grad.csv"))
			r, P := g.Dims()
			require.Equal(t, 1, r)
			require.Equal(t, 26, P)
			tape := nn.NewTape(m.Net, m.Loss)
			f := func(x []float64) float64 { tape.Forward(x, b.X); return tape.LossValue(b.Y) }
			want := fd.Gradient(nil, f, theta, &fd.Settings{Formula: fd.Central, Step: 1e-6})
			for i, w := range want {
				assert.InDelta(t, w, g.At(0, i), 1e-8, "gradient %d", i)
			}

			for _, kind := range exported {
				got := readMatrix(t, filepath.Join(out, kind.String()+".csv"))
				M, err := m.Dense(kind, theta, b, nil)
				require.NoError(t, err)
				assert.True(t, mat.Equal(got, M), "%v differs from Model.Dense", kind)
			}

			fkind, err := approx.ParseFactorKind(c.kfac)
			require.NoError(t, err)
			k, err := approx.ModelKFAC(m, theta, b, &approx.KFACSettings{Factors: fkind, Samples: 2, Seed: 3})
			require.NoError(t, err)
			require.Equal(t, 2, k.NumBlocks())
			for l := 0; l < k.NumBlocks(); l++ {
				g, a := k.Kron(l).Factors()
				assert.True(t, mat.Equal(readMatrix(t, filepath.Join(out, fmt.Sprintf("kfac_A_%d.csv", l))), a), "A_%d", l)
				assert.True(t, mat.Equal(readMatrix(t, filepath.Join(out, fmt.Sprintf("kfac_G_%d.csv", l))), g), "G_%d", l)
			}
			_, err = os.Stat(filepath.Join(out, "kfac_A_2.csv"))
			assert.True(t, os.IsNotExist(err))

			checkErrorsCSV(t, filepath.Join(out, "errors.csv"), m, theta, b, c.kfac)

			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			assert.Len(t, entries, 1+len(exported)+4+1, "grad, matrices, 4 factors, errors; no temporary files")
		})
	}
}

// checkErrorsCSV checks errors.csv's header, its comparisons and some of
// its values.
func checkErrorsCSV(t *testing.T, path string, m *curvature.Model, theta []float64, b curvature.Batch, kfac string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := data.ReadRecords(f)
	require.NoError(t, err)
	values := map[string]float64{}
	pairs := map[string]int{}
	eigen := map[string][]float64{}
	for _, r := range recs {
		require.Equal(t, 0, r.Step)
		key := r.Matrix + "/" + r.Approximation
		if r.Metric == approx.MetricEigenvalue {
			require.Equal(t, len(eigen[key])+1, r.Index, "%s: eigenvalues in order", key)
			eigen[key] = append(eigen[key], r.Value)
		} else {
			require.Zero(t, r.Index)
			values[key+"/"+r.Metric] = r.Value
		}
		pairs[key]++
	}
	k := min(topK, len(theta))
	want := map[string]int{}
	for _, kind := range exported {
		want[kind.String()+"/exact"] = 1 + k
		for _, a := range []string{"diagonal", "block_diagonal", "kronecker_optimal"} {
			want[kind.String()+"/"+a] = len(errorMetrics) + k
		}
	}
	targets := []string{"ggn", "fisher"}
	if kfac == "empirical" {
		targets = []string{"empirical_fisher"}
	}
	for _, t := range targets {
		want[t+"/kfac"], want[t+"/ekfac"] = len(errorMetrics)+k, len(errorMetrics)+k
	}
	want["gradient_covariance/tonga"], want["empirical_fisher/tonga"] = len(errorMetrics)+k, len(errorMetrics)+k
	assert.Equal(t, want, pairs)

	// Each matrix's top eigenvalues are those of the dense symmetric
	// eigensolver on the matrix as computed here.
	for _, kind := range exported {
		M, err := m.Dense(kind, theta, b, nil)
		require.NoError(t, err)
		var es mat.EigenSym
		require.True(t, es.Factorize(M, false))
		vals := es.Values(nil)
		scale := math.Max(math.Abs(vals[0]), math.Abs(vals[len(vals)-1]))
		got := eigen[kind.String()+"/exact"]
		for i := range got {
			assert.InDelta(t, vals[len(vals)-1-i], got[i], 1e-10*scale, "%v eigenvalue %d", kind, i+1)
		}
	}

	// The diagonal's relative Frobenius error is the off-diagonal mass.
	H, err := m.Dense(curvature.Hessian, theta, b, nil)
	require.NoError(t, err)
	var off, all float64
	n := H.SymmetricDim()
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			all += H.At(i, j) * H.At(i, j)
			if i != j {
				off += H.At(i, j) * H.At(i, j)
			}
		}
	}
	assert.InDelta(t, math.Sqrt(off/all), values["hessian/diagonal/"+approx.MetricRelFrobenius], 1e-12)
	// Guaranteed for the matrix the factors estimate exactly (not for the
	// GGN against Monte-Carlo factors, which estimate it with noise).
	if kfac != "mc" {
		for _, k := range targets {
			kf := values[k+"/kfac/"+approx.MetricRelFrobenius]
			assert.LessOrEqual(t, values[k+"/ekfac/"+approx.MetricRelFrobenius], kf*(1+1e-9), "%s: EKFAC no worse than K-FAC", k)
			assert.LessOrEqual(t, values[k+"/kronecker_optimal/"+approx.MetricRelFrobenius], kf*(1+1e-6), "%s: Kronecker-optimal no worse", k)
		}
	}
	for key, v := range values {
		if strings.HasSuffix(key, "/"+approx.MetricSolveCosine) {
			assert.LessOrEqual(t, math.Abs(v), 1+1e-12, key)
		}
	}
}

// readErrors returns the records of errors.csv in out.
func readErrors(t *testing.T, out string) []data.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(out, "errors.csv"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := data.ReadRecords(f)
	require.NoError(t, err)
	return recs
}

// The example model and data under testdata, which the README's command
// uses, run and give finite errors.
func TestRunTestdata(t *testing.T) {
	out := t.TempDir()
	var log strings.Builder
	require.NoError(t, run(config{Model: "testdata/model.json", Data: "testdata/data.csv", Out: out, Samples: 1}, &log))
	assert.Contains(t, log.String(), "51 parameters, 150 samples")
	for _, r := range readErrors(t, out) {
		assert.False(t, math.IsNaN(r.Value) || math.IsInf(r.Value, 0), "%+v", r)
	}
}

// A leading UTF-8 byte-order mark, which the data CSV may start with too,
// is accepted in the model file: both come from the same tools.
func TestModelBOM(t *testing.T) {
	raw, err := json.Marshal(tinyModel("mse"))
	require.NoError(t, err)
	dir := t.TempDir()
	plainPath, bomPath := filepath.Join(dir, "plain.json"), filepath.Join(dir, "bom.json")
	require.NoError(t, os.WriteFile(plainPath, raw, 0o644))
	require.NoError(t, os.WriteFile(bomPath, append([]byte("\ufeff"), raw...), 0o644))
	plain, err := loadModel(plainPath)
	require.NoError(t, err)
	bom, err := loadModel(bomPath)
	require.NoError(t, err)
	assert.Equal(t, plain.theta, bom.theta)
	assert.Equal(t, plain.model, bom.model)
}

// Bad input gives an error that names the file and says what is wrong,
// and writes nothing.
func TestRunBadInput(t *testing.T) {
	good := tinyModel("softmax_ce")
	with := func(edit func(*modelFile)) modelFile {
		m := good
		m.Sizes = append([]int(nil), good.Sizes...)
		m.Activations = append([]string(nil), good.Activations...)
		m.Params = append([]*float64(nil), good.Params...)
		edit(&m)
		return m
	}
	gooddata := tinyData("softmax_ce")
	cases := []struct {
		name  string
		model any    // written as JSON unless a string
		data  string // data.csv contents
		cfg   func(*config)
		want  []string // substrings of the error
	}{
		{"params too short", with(func(m *modelFile) { m.Params = m.Params[:25] }), gooddata, nil,
			[]string{"model.json", `"params" has 25 values but sizes [3 4 2] need 26`, "layer 1: 2×(4+1) = 10"}},
		{"sizes and activations", with(func(m *modelFile) { m.Activations = m.Activations[:1] }), gooddata, nil,
			[]string{"model.json", `"activations" needs 2 entries, got 1`}},
		{"unknown activation", with(func(m *modelFile) { m.Activations[0] = "swish" }), gooddata, nil,
			[]string{"model.json", "activations[0]", "swish"}},
		{"empty activation", with(func(m *modelFile) { m.Activations[1] = "" }), gooddata, nil,
			[]string{"model.json", "activations[1] is empty"}},
		{"unknown loss", with(func(m *modelFile) { m.Loss = "hinge" }), gooddata, nil,
			[]string{"model.json", "hinge"}},
		{"missing loss", with(func(m *modelFile) { m.Loss = "" }), gooddata, nil,
			[]string{"model.json", `"loss" is missing`}},
		{"zero width", with(func(m *modelFile) { m.Sizes[1] = 0 }), gooddata, nil,
			[]string{"model.json", "sizes[1] is 0"}},
		{"one size", with(func(m *modelFile) { m.Sizes = m.Sizes[:1] }), gooddata, nil,
			[]string{"model.json", "at least 2"}},
		{"null param", with(func(m *modelFile) { m.Params[4] = nil }), gooddata, nil,
			[]string{"model.json", "params[4] is null"}},
		{"syntax error", "{\"sizes\": [3, 4, 2],\n \"loss\": softmax}", gooddata, nil,
			[]string{"model.json", "line 2, column"}},
		{"wrong type", "{\"sizes\": [3, 4, 2],\n \"loss\": 3}", gooddata, nil,
			[]string{"model.json", "line 2", `"loss"`}},
		{"unknown field", `{"size": [3, 4, 2]}`, gooddata, nil,
			[]string{"model.json", `unknown field "size"`}},
		{"general form, linear size", `{"input_shape": [3], "layers": [{"type": "linear", "in_features": 3, "out_features": 4}, {"type": "tanh"},
			{"type": "linear", "in_features": 5, "out_features": 2}], "loss": "softmax_ce", "params": []}`, gooddata, nil,
			[]string{"model.json", `layers[2] (linear): "in_features" is 5 but its input is a vector of 4 features`}},
		{"general form, params", `{"input_shape": [3], "layers": [{"type": "linear", "in_features": 3, "out_features": 4}, {"type": "tanh"},
			{"type": "linear", "in_features": 4, "out_features": 2}], "loss": "softmax_ce", "params": [1, 2]}`, gooddata, nil,
			[]string{"model.json", `"params" has 2 values but the layers need 26 (layers[0] linear: 16, layers[2] linear: 10)`}},
		{"empty model", "", gooddata, nil, []string{"model.json", "empty"}},
		{"trailing data", `{"sizes": [3, 2]} {}`, gooddata, nil, []string{"model.json", "after the JSON object"}},
		{"duplicate key", "{\"loss\": \"mse\",\n \"sizes\": [3, 4, 2], \"loss\": \"softmax_ce\"}", gooddata, nil,
			[]string{"model.json", `line 2, column`, `duplicate key "loss"`}},
		{"duplicate key by case", `{"sizes": [3, 4, 2], "Sizes": [3, 2]}`, gooddata, nil,
			[]string{"model.json", `duplicate key "Sizes"`, `"sizes"`}},
		{"BOM then nothing", "\ufeff", gooddata, nil, []string{"model.json", "empty"}},
		{"too many parameters", with(func(m *modelFile) {
			m.Sizes = []int{3, 2000, 2}
			m.Params = make([]*float64, 2000*4+2*2001)
			for i := range m.Params {
				m.Params[i] = new(float64)
			}
		}), gooddata, nil, []string{"model.json", "12002 parameters", "at most 2048"}},
		{"column count", good, "1,2,3,0\n1,2,3,1\n1,2,0\n", nil,
			[]string{"data.csv:3", "expected 4 columns"}},
		{"label out of range", good, "1,2,3,0\n1,2,3,2\n", nil,
			[]string{"data.csv:2", "column 4"}},
		{"not a number", good, "1,x,3,0\n", nil, []string{"data.csv:1", "column 2", `"x"`}},
		{"no rows", good, "\n\n", nil, []string{"data.csv", "no data rows"}},
		{"binary target", with(func(m *modelFile) { m.Loss = "sigmoid_bce" }), "\n1,2,3,0,1\n\n1,2,3,1,2\n", nil,
			[]string{"data.csv:4", "column 5", "outside [0, 1]"}},
		{"missing model", nil, gooddata, func(c *config) { c.Model += ".missing" },
			[]string{"model.json.missing"}},
		{"missing data", good, gooddata, func(c *config) { c.Data += ".missing" },
			[]string{"data.csv.missing"}},
		{"bad kfac", good, gooddata, func(c *config) { c.KFAC = "diagonal" }, []string{"-kfac", "diagonal"}},
		{"bad samples", good, gooddata, func(c *config) { c.Samples = 0 }, []string{"-samples"}},
		{"no model flag", good, gooddata, func(c *config) { c.Model = "" }, []string{"-model is required"}},
		{"no out flag", good, gooddata, func(c *config) { c.Out = "" }, []string{"-out is required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := config{Model: filepath.Join(dir, "model.json"), Data: filepath.Join(dir, "data.csv"),
				Out: filepath.Join(dir, "out"), KFAC: "exact", Samples: 1}
			var raw []byte
			switch m := c.model.(type) {
			case string:
				raw = []byte(m)
			case nil:
			default:
				var err error
				raw, err = json.Marshal(m)
				require.NoError(t, err)
			}
			require.NoError(t, os.WriteFile(cfg.Model, raw, 0o644))
			require.NoError(t, os.WriteFile(cfg.Data, []byte(c.data), 0o644))
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			err := run(cfg, io.Discard)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			_, statErr := os.Stat(filepath.Join(dir, "out"))
			assert.True(t, os.IsNotExist(statErr), "the output directory was created")
		})
	}
}

// One sample makes the gradient covariance zero: its relative errors are
// NaN, with a note, and everything else is still written.
func TestRunOneSample(t *testing.T) {
	model, dataPath := writeInputs(t, tinyModel("mse"), "0.1,0.2,0.3,1,-1\n")
	out := t.TempDir()
	var log strings.Builder
	require.NoError(t, run(config{Model: model, Data: dataPath, Out: out, KFAC: "exact", Samples: 1}, &log))
	assert.Contains(t, log.String(), "gradient_covariance is zero")
	for _, r := range readErrors(t, out) {
		switch {
		case r.Matrix == "gradient_covariance" && r.Approximation == "exact":
			assert.Equal(t, data.Record{Matrix: r.Matrix, Approximation: "exact", Metric: approx.MetricLambda}, r, "λ of a zero matrix")
		case r.Matrix == "gradient_covariance":
			assert.True(t, math.IsNaN(r.Value), "%+v", r)
		case r.Metric == approx.MetricRelFrobenius:
			assert.False(t, math.IsNaN(r.Value), "%+v", r)
		}
	}
}

// A run that fails after reading its input — here on a data row of 1e200
// values, whose gradient overflows — writes nothing: the previous run's
// files stay as they were, none is added, and a missing output directory
// is not created.
func TestRunFailsWritingNothing(t *testing.T) {
	model, dataPath := writeInputs(t, tinyModel("mse"), tinyData("mse"))
	out := filepath.Join(t.TempDir(), "out")
	require.NoError(t, run(config{Model: model, Data: dataPath, Out: out, KFAC: "exact", Samples: 1}, io.Discard))
	before := killtest.Snapshot(t, out)
	require.Len(t, before, 1+len(exported)+4+1)

	huge := tinyData("mse") + "1e200,1e200,1e200,1e200,1e200\n"
	require.NoError(t, os.WriteFile(dataPath, []byte(huge), 0o644))
	err := run(config{Model: model, Data: dataPath, Out: out, KFAC: "exact", Samples: 1}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data.csv")
	assert.Equal(t, before, killtest.Snapshot(t, out), "the previous run's files, unchanged, and nothing else")

	fresh := filepath.Join(t.TempDir(), "fresh")
	require.Error(t, run(config{Model: model, Data: dataPath, Out: fresh, KFAC: "exact", Samples: 1}, io.Discard))
	_, statErr := os.Stat(fresh)
	assert.True(t, os.IsNotExist(statErr), "the output directory was created")
}

// A run on a network with fewer layers removes the K-FAC factor files of
// the layers it does not have, so the directory holds one run's files.
func TestRunRemovesOtherRunsFactors(t *testing.T) {
	out := t.TempDir()
	model, dataPath := writeInputs(t, deepModel(), tinyData("mse"))
	require.NoError(t, run(config{Model: model, Data: dataPath, Out: out, KFAC: "exact", Samples: 1}, io.Discard))
	assert.Contains(t, killtest.Snapshot(t, out), "kfac_G_2.csv")
	model, dataPath = writeInputs(t, tinyModel("mse"), tinyData("mse"))
	require.NoError(t, run(config{Model: model, Data: dataPath, Out: out, KFAC: "exact", Samples: 1}, io.Discard))
	files := killtest.Snapshot(t, out)
	assert.Len(t, files, 1+len(exported)+4+1)
	assert.NotContains(t, files, "kfac_A_2.csv")
	assert.NotContains(t, files, "kfac_G_2.csv")
}

// runVariant runs a kill-loop variant, the model and data files' paths on
// two lines, into dir.
func runVariant(dir, v string) error {
	model, data, _ := strings.Cut(v, "\n")
	return run(config{Model: model, Data: data, Out: dir, KFAC: "exact", Samples: 1}, io.Discard)
}

func TestMain(m *testing.M) {
	killtest.Helper(runVariant)
	os.Exit(m.Run())
}

// deepModel is a 3-4-3-2 tanh network: one more layer, so two more
// K-FAC factor files, than tinyModel.
func deepModel() modelFile {
	mf := tinyModel("mse")
	mf.Sizes = []int{3, 4, 3, 2}
	mf.Activations = []string{"tanh", "tanh", "identity"}
	mf.Params = nil
	for i := 0; i < 4*4+3*5+2*4; i++ {
		v := 0.5 * math.Cos(0.7*float64(i))
		mf.Params = append(mf.Params, &v)
	}
	return mf
}

// TestKillLoop kills runs on two networks, with different numbers of
// layers, at random moments into one directory: what is there is always
// files of one complete run, byte for byte (so never the factor files of
// a deeper network beside a shallower one's), and a run that completes
// leaves no temporary file.
func TestKillLoop(t *testing.T) {
	var variants []string
	for _, mf := range []modelFile{tinyModel("mse"), deepModel()} {
		model, dataPath := writeInputs(t, mf, tinyData("mse"))
		variants = append(variants, model+"\n"+dataPath)
	}
	var want []map[string][][]byte
	for _, ref := range killtest.References(t, variants, runVariant) {
		want = append(want, killtest.Exact(ref))
	}
	require.Len(t, want[1], len(want[0])+2, "the deeper network has two more factor files")
	const runs = 30
	completed := killtest.Loop{
		Dir: t.TempDir(), Variants: variants, Runs: runs, Seed: 4,
		Outputs: append(matrixFiles(), "grad.csv", kfacFiles, "errors.csv"),
		Check:   killtest.CheckFiles(want, nil),
	}.Run(t)
	t.Logf("%d of %d runs completed", completed, runs)
}

// A convolutional network with pooling, a residual block and a layer norm,
// in model.json's general form as the PyTorch exporter of docs/export.md
// writes it (testdata/conv_model.json: 1×8×8 digits, conv 3×3 → tanh →
// average and max pooling → flatten → residual (layernorm, linear) →
// linear, 198 parameters, after 20 SGD steps on the 40 digits of
// conv_data.csv): the gradient and the Hessian's product with a vector v
// equal PyTorch's autograd values (conv_torch.json: torch.autograd.grad,
// and a second backward pass for H v), and each layer with a Kronecker
// form has its K-FAC factors, the layer norm none.
func TestRunConvModel(t *testing.T) {
	out := t.TempDir()
	var log strings.Builder
	require.NoError(t, run(config{Model: "testdata/conv_model.json", Data: "testdata/conv_data.csv", Out: out, KFAC: "exact", Samples: 1}, &log))
	assert.Contains(t, log.String(), "198 parameters, 40 samples, loss 2.13874")

	raw, err := os.ReadFile("testdata/conv_torch.json")
	require.NoError(t, err)
	var torch struct {
		Loss        float64
		Grad, V, Hv []float64
	}
	require.NoError(t, json.Unmarshal(raw, &torch))
	relErr := func(got, want []float64) float64 {
		d := make([]float64, len(got))
		for i := range d {
			d[i] = got[i] - want[i]
		}
		return mat.Norm(mat.NewVecDense(len(d), d), 2) / mat.Norm(mat.NewVecDense(len(want), want), 2)
	}
	g := readMatrix(t, filepath.Join(out, "grad.csv"))
	require.Equal(t, 198, len(torch.Grad))
	assert.Less(t, relErr(g.RawRowView(0), torch.Grad), 1e-14, "gradient against PyTorch's")
	H := readMatrix(t, filepath.Join(out, "hessian.csv"))
	var hv mat.VecDense
	hv.MulVec(H, mat.NewVecDense(198, torch.V))
	assert.Less(t, relErr(hv.RawVector().Data, torch.Hv), 1e-13, "H v against PyTorch's")

	for _, f := range []struct {
		name string
		n    int
	}{
		{"kfac_A_0.csv", 1*3*3 + 1}, {"kfac_G_0.csv", 2}, // conv: patches of 1×3×3, 2 channels
		{"kfac_A_2.csv", 8 + 1}, {"kfac_G_2.csv", 8}, // the residual body's linear layer
		{"kfac_A_3.csv", 8 + 1}, {"kfac_G_3.csv", 10},
	} {
		r, c := readMatrix(t, filepath.Join(out, f.name)).Dims()
		assert.Equal(t, []int{f.n, f.n}, []int{r, c}, f.name)
	}
	_, err = os.Stat(filepath.Join(out, "kfac_A_1.csv"))
	assert.True(t, os.IsNotExist(err), "the layer norm has no Kronecker factors")
}
