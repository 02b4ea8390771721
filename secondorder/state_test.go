package secondorder

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// resumable is an optimizer with a saved state.
type resumable interface {
	Optimizer
	Save(w io.Writer) error
	Load(r io.Reader) error
}

var (
	_ resumable = (*KFAC)(nil)
	_ resumable = (*HessianFree)(nil)
	_ resumable = (*NaturalGradient)(nil)
)

// resumeProblem is a 64-6-10 tanh digits classifier, its parameters and
// 12 mini-batches of 32 digits, the same on every call (and in every
// process).
func resumeProblem() (*curvature.Model, []float64, []curvature.Batch, error) {
	set, err := data.Digits()
	if err != nil {
		return nil, nil, nil, err
	}
	net, err := nn.NewMLP([]int{64, 6, 10}, []string{"tanh", "identity"})
	if err != nil {
		return nil, nil, nil, err
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rand.New(rand.NewPCG(21, 1)))
	it, err := data.NewBatches(set, 32, rand.New(rand.NewPCG(4, 4)))
	if err != nil {
		return nil, nil, nil, err
	}
	var bs []curvature.Batch
	for len(bs) < 12 {
		if it.Next() {
			bs = append(bs, curvature.Batch{X: mat.DenseCopyOf(it.X()), Y: mat.DenseCopyOf(it.Y())})
		}
	}
	return &curvature.Model{Net: net, Loss: nn.SoftmaxCrossEntropy{}}, theta, bs, nil
}

// steps runs opt on batches[from:to] from θ and returns the records.
func steps(t testing.TB, opt Optimizer, theta []float64, batches []curvature.Batch, from, to int) []Record {
	t.Helper()
	var recs []Record
	for i := from; i < to; i++ {
		rec, err := opt.Step(theta, batches[i])
		require.NoError(t, err, "step %d", i+1)
		recs = append(recs, rec)
	}
	return recs
}

// sameBits reports whether a and b hold the same float64 bits.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// resumeCases are the optimizers the resume tests run, each built afresh
// by make with the same model and settings.
var resumeCases = []struct {
	name string
	make func(m *curvature.Model) (resumable, error)
}{
	// Monte-Carlo factors (the generator), statistics every other step,
	// refactorisation every third, λ adapted every second: a save falls
	// between all of them.
	{"K-FAC", func(m *curvature.Model) (resumable, error) {
		return NewKFAC(m, &KFACSettings{Seed: 3, StatsInterval: 2, InverseInterval: 3, DampingInterval: 2, WeightDecay: 1e-4})
	}},
	{"Hessian-free", func(m *curvature.Model) (resumable, error) {
		return NewHessianFree(m, &HessianFreeSettings{MaxCG: 20, CurvatureFraction: 0.5})
	}},
	{"natural gradient", func(m *curvature.Model) (resumable, error) {
		return NewNaturalGradient(m, &NaturalGradientSettings{Momentum: 0.5, LearningRate: 0.2})
	}},
}

// fresh builds case c's optimizer for m.
func fresh(t testing.TB, c int, m *curvature.Model) resumable {
	t.Helper()
	opt, err := resumeCases[c].make(m)
	require.NoError(t, err)
	return opt
}

// N steps without a break, and k steps, Save, Load into a fresh optimizer
// of the same model and settings and N−k steps, end at the same θ, bit for
// bit, with the same records.
func TestSaveLoadResumes(t *testing.T) {
	m, theta0, batches, err := resumeProblem()
	require.NoError(t, err)
	const n, k = 10, 4
	for ci, c := range resumeCases {
		t.Run(c.name, func(t *testing.T) {
			whole := append([]float64(nil), theta0...)
			want := steps(t, fresh(t, ci, m), whole, batches, 0, n)

			theta := append([]float64(nil), theta0...)
			first := fresh(t, ci, m)
			steps(t, first, theta, batches, 0, k)
			var buf bytes.Buffer
			require.NoError(t, first.Save(&buf))
			state := bytes.Clone(buf.Bytes())
			buf.WriteString("more data")

			loaded := fresh(t, ci, m)
			require.NoError(t, loaded.Load(&buf))
			assert.Equal(t, "more data", buf.String(), "Load reads exactly the state")
			var again bytes.Buffer
			require.NoError(t, loaded.Save(&again))
			assert.True(t, bytes.Equal(state, again.Bytes()), "the loaded optimizer saves the same state")
			// An optimizer that has run one step further, on batches of
			// another size, continues from the state as a fresh one does:
			// nothing of its own run stays behind (K-FAC's view of the rows
			// of its model was cached by step number).
			used := fresh(t, ci, m)
			short := make([]curvature.Batch, n)
			for i, b := range batches[:n] {
				short[i] = curvature.Batch{X: rowsOf(b.X, 31), Y: rowsOf(b.Y, 31)}
			}
			steps(t, used, append([]float64(nil), theta0...), short, 0, k+1)
			require.NoError(t, used.Load(bytes.NewReader(state)))
			usedTheta := append([]float64(nil), theta...)
			steps(t, used, usedTheta, batches, k, n)

			got := steps(t, loaded, theta, batches, k, n)
			assert.True(t, sameBits(whole, theta), "θ after the resumed run differs")
			assert.True(t, sameBits(whole, usedTheta), "θ after a resume into a used optimizer differs")
			for i := range got {
				assert.Equal(t, want[k+i].Step, got[i].Step)
				assert.True(t, sameBits([]float64{want[k+i].Loss, want[k+i].Lambda, want[k+i].NextLambda},
					[]float64{got[i].Loss, got[i].Lambda, got[i].NextLambda}), "step %d's record", k+i+1)
			}
		})
	}
}

// K-FAC with a generator of the caller's: the state does not hold it;
// restoring its source beside the state resumes bit for bit.
func TestKFACSaveLoadCallersRand(t *testing.T) {
	m, theta0, batches, err := resumeProblem()
	require.NoError(t, err)
	src := rand.NewPCG(9, 9)
	mk := func(src *rand.PCG) *KFAC {
		opt, err := NewKFAC(m, &KFACSettings{Rand: rand.New(src), InverseInterval: 3})
		require.NoError(t, err)
		return opt
	}
	whole := append([]float64(nil), theta0...)
	steps(t, mk(src), whole, batches, 0, 8)

	src.Seed(9, 9)
	theta := append([]float64(nil), theta0...)
	first := mk(src)
	steps(t, first, theta, batches, 0, 5)
	var buf bytes.Buffer
	require.NoError(t, first.Save(&buf))
	saved, err := src.MarshalBinary()
	require.NoError(t, err)

	src2 := rand.NewPCG(0, 0)
	require.NoError(t, src2.UnmarshalBinary(saved))
	loaded := mk(src2)
	require.NoError(t, loaded.Load(&buf))
	steps(t, loaded, theta, batches, 5, 8)
	assert.True(t, sameBits(whole, theta))
}

// Natural gradient does not save its curvature: with UpdateInterval 3, a
// save where a refresh is due resumes bit for bit; one between refreshes
// recomputes the curvature on the first step after Load, and the later
// refreshes fall on the same steps as without the resume.
func TestNaturalGradientSaveLoadInterval(t *testing.T) {
	m, theta0, batches, err := resumeProblem()
	require.NoError(t, err)
	mk := func() *NaturalGradient {
		opt, err := NewNaturalGradient(m, &NaturalGradientSettings{UpdateInterval: 3, Momentum: 0.3})
		require.NoError(t, err)
		return opt
	}
	whole := append([]float64(nil), theta0...)
	want := steps(t, mk(), whole, batches, 0, 10)
	for _, k := range []int{3, 6} { // the curvature of steps 1 and 4 is 3 steps old
		require.True(t, want[k].Updated)
	}
	resume := func(k int) ([]float64, []Record) {
		theta := append([]float64(nil), theta0...)
		first := mk()
		steps(t, first, theta, batches, 0, k)
		var buf bytes.Buffer
		require.NoError(t, first.Save(&buf))
		loaded := mk()
		require.NoError(t, loaded.Load(&buf))
		return theta, steps(t, loaded, theta, batches, k, 10)
	}
	theta, got := resume(6)
	assert.True(t, sameBits(whole, theta), "a save where a refresh is due resumes bit for bit")

	theta, got = resume(5)
	assert.False(t, sameBits(whole, theta), "the early refresh changes the run")
	assert.True(t, got[0].Updated, "the first step after Load recomputes the curvature")
	for i := 1; i < len(got); i++ {
		assert.Equal(t, want[5+i].Updated, got[i].Updated, "step %d refreshes as without the resume", 5+i+1)
	}
}

// TestMain runs the other half of TestSaveLoadFreshProcess when the
// environment says so.
func TestMain(m *testing.M) {
	if dir := os.Getenv("CURVKIT_RESUME_DIR"); dir != "" {
		if err := resumeChild(dir); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// resumeChild loads the state and θ in dir into a fresh K-FAC, takes the
// remaining steps and writes θ.
func resumeChild(dir string) error {
	m, _, batches, err := resumeProblem()
	if err != nil {
		return err
	}
	opt, err := resumeCases[0].make(m)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, "state"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := opt.Load(f); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "theta"))
	if err != nil {
		return err
	}
	k, _ := strconv.Atoi(os.Getenv("CURVKIT_RESUME_K"))
	theta := make([]float64, len(raw)/8)
	for i := range theta {
		theta[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	for i := k; i < len(batches); i++ {
		if _, err := opt.Step(theta, batches[i]); err != nil {
			return err
		}
	}
	for i, v := range theta {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
	}
	return os.WriteFile(filepath.Join(dir, "theta"), raw, 0o644)
}

// K-FAC saved to a file, loaded by another process (this test binary run
// again) and continued there ends at the θ of an uninterrupted run, bit
// for bit: nothing of the state lives only in the first process.
func TestSaveLoadFreshProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess")
	}
	m, theta0, batches, err := resumeProblem()
	require.NoError(t, err)
	const k = 5
	whole := append([]float64(nil), theta0...)
	steps(t, fresh(t, 0, m), whole, batches, 0, len(batches))

	theta := append([]float64(nil), theta0...)
	first := fresh(t, 0, m)
	steps(t, first, theta, batches, 0, k)
	dir := t.TempDir()
	require.NoError(t, data.WriteFileAtomic(filepath.Join(dir, "state"), first.Save))
	raw := make([]byte, 8*len(theta))
	for i, v := range theta {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "theta"), raw, 0o644))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CURVKIT_RESUME_DIR="+dir, "CURVKIT_RESUME_K="+strconv.Itoa(k))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	raw, err = os.ReadFile(filepath.Join(dir, "theta"))
	require.NoError(t, err)
	for i := range theta {
		theta[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	assert.True(t, sameBits(whole, theta), "θ after the run resumed in another process differs")
}

// A state that is corrupt, of another optimizer, of another number of
// parameters, or that holds values no run gives (rewritten with a valid
// checksum) is refused, and the optimizer is left as it was.
func TestLoadErrors(t *testing.T) {
	m, theta0, batches, err := resumeProblem()
	require.NoError(t, err)
	save := func(opt resumable) []byte {
		var buf bytes.Buffer
		require.NoError(t, opt.Save(&buf))
		return buf.Bytes()
	}
	states := map[string][]byte{}
	targets := map[string]resumable{}
	var kfac *KFAC
	for ci, c := range resumeCases {
		opt := fresh(t, ci, m)
		steps(t, opt, append([]float64(nil), theta0...), batches, 0, 3)
		states[c.name] = save(opt)
		targets[c.name] = fresh(t, ci, m)
		steps(t, targets[c.name], append([]float64(nil), theta0...), batches, 5, 6)
		if k, ok := opt.(*KFAC); ok {
			kfac = k
		}
	}
	other, _, _ := digitsModel(t, 7, 24)
	small, err := NewHessianFree(other, nil)
	require.NoError(t, err)
	smallState := save(small)

	f64 := func(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }
	resum := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
		return b
	}
	// The header is 8 + 4 + 1 + len(kind) + 8 bytes; the values follow.
	header := func(kind string) int { return 21 + len(kind) }
	with := func(name string, off int, v []byte) []byte {
		b := bytes.Clone(states[name])
		copy(b[header(name)+off:], v)
		return resum(b)
	}
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	flip := func(name string) []byte {
		b := bytes.Clone(states[name])
		b[len(b)-20] ^= 0x10
		return b
	}
	P := len(theta0)
	// A statistic inside the K-FAC's saved statistics, found by its bits,
	// made NaN, with the statistics' own checksum and the state's rewritten.
	g, _ := kfac.Curvature().Kron(0).Factors()
	gBits := binary.LittleEndian.AppendUint64(nil, math.Float64bits(g.At(0, 0)))
	nanStat := bytes.Clone(states["K-FAC"])
	blob := nanStat[header("K-FAC")+33+8*P+8 : len(nanStat)-4]
	i := bytes.Index(blob, gBits)
	require.Greater(t, i, 0)
	copy(blob[i:], f64(math.NaN()))
	resum(blob)
	resum(nanStat)
	for _, c := range []struct {
		target string
		data   []byte
		want   string
	}{
		{"K-FAC", nil, "unexpected EOF"},
		{"K-FAC", []byte("CKFOSTAT........"), "not a secondorder state"},
		{"K-FAC", states["Hessian-free"], `state is of "Hessian-free", want "K-FAC"`},
		{"Hessian-free", smallState, "parameters, want"},
		{"K-FAC", flip("K-FAC"), "checksum mismatch"},
		{"Hessian-free", flip("Hessian-free"), "checksum mismatch"},
		{"natural gradient", flip("natural gradient"), "checksum mismatch"},
		{"K-FAC", states["K-FAC"][:len(states["K-FAC"])-100], "unexpected EOF"},
		{"K-FAC", with("K-FAC", 0, u64(1<<40)), "step count 1099511627776 is out of range"},
		{"K-FAC", with("K-FAC", 8, u64(7)), "7 statistics updates in 3 steps"},
		{"K-FAC", with("K-FAC", 16, f64(math.Inf(1))), "damping λ = +Inf is outside"},
		{"K-FAC", with("K-FAC", 16, f64(1e9)), "damping λ = 1e+09 is outside [0.001, 10000]"},
		{"K-FAC", with("K-FAC", 25, f64(math.NaN())), "γ = NaN"},
		{"K-FAC", with("K-FAC", 33, f64(math.Inf(-1))), "δ_prev has -Inf at index 0"},
		{"K-FAC", nanStat, "approx: loading K-FAC: layer 0: factor G value 0 is NaN"},
		{"Hessian-free", with("Hessian-free", 8, f64(-1)), "damping λ = -1 is outside"},
		{"Hessian-free", with("Hessian-free", 16+8*3, f64(math.NaN())), "warm start has NaN at index 3"},
		{"natural gradient", with("natural gradient", 8, u64(9)), "a curvature 9 steps old after 3 steps"},
		{"natural gradient", with("natural gradient", 16, []byte{2}), "a flag is neither 0 nor 1"},
		{"natural gradient", with("natural gradient", 17, f64(math.Inf(1))), "velocity has +Inf at index 0"},
	} {
		opt := targets[c.target]
		before := save(opt)
		err := opt.Load(bytes.NewReader(c.data))
		if assert.Error(t, err, "%s: %q", c.target, c.want) {
			assert.Contains(t, err.Error(), c.want)
		}
		assert.True(t, bytes.Equal(before, save(opt)), "%s after %q: the optimizer changed", c.target, c.want)
	}
	assert.Error(t, targets["K-FAC"].Load(nil))
	assert.Error(t, targets["K-FAC"].Save(nil))
}

// FuzzLoad: any bytes load into each network optimizer or are refused
// with the optimizer unchanged, never a panic; a state that loads saves
// back to the same bytes. The seeds are valid states of each kind, for a
// 64-2-10 network whose states are small enough to mutate quickly.
func FuzzLoad(f *testing.F) {
	m, _, batches, err := resumeProblem()
	if err != nil {
		f.Fatal(err)
	}
	net, err := nn.NewMLP([]int{64, 2, 10}, []string{"tanh", "identity"})
	if err != nil {
		f.Fatal(err)
	}
	m = &curvature.Model{Net: net, Loss: m.Loss}
	theta0 := make([]float64, net.NumParams())
	net.Init(theta0, rand.New(rand.NewPCG(5, 5)))
	opts := make([]resumable, len(resumeCases))
	for ci := range resumeCases {
		opt, err := resumeCases[ci].make(m)
		if err != nil {
			f.Fatal(err)
		}
		steps(f, opt, append([]float64(nil), theta0...), batches, 0, 2)
		var buf bytes.Buffer
		if err := opt.Save(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		opts[ci] = opt
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range opts {
			var before bytes.Buffer
			if err := opt.Save(&before); err != nil {
				t.Fatal(err)
			}
			if err := opt.Load(bytes.NewReader(data)); err != nil {
				var after bytes.Buffer
				if err := opt.Save(&after); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(before.Bytes(), after.Bytes()) {
					t.Fatalf("a refused state changed the optimizer: %v", err)
				}
				continue
			}
			var again bytes.Buffer
			if err := opt.Save(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, again.Bytes()) {
				t.Fatal("a loaded state saves back differently")
			}
			if err := opt.Load(bytes.NewReader(before.Bytes())); err != nil {
				t.Fatal(err)
			}
		}
	})
}
