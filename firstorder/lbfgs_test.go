package firstorder

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/optimize/functions"
)

// logistic is the logistic regression of testdata/gen_reference.py: the mean
// over the rows a of A of the logistic loss of aᵀx against y ∈ {0, 1}, plus
// 5e-4·‖x‖².
type logistic struct {
	a [][]float64
	y []float64
}

func (l logistic) f(x, grad []float64) float64 {
	clear(grad)
	var loss float64
	n := float64(len(l.a))
	for i, a := range l.a {
		var z float64
		for j, v := range a {
			z += v * x[j]
		}
		loss += max(z, 0) - z*l.y[i] + math.Log1p(math.Exp(-math.Abs(z)))
		r := (1/(1+math.Exp(-z)) - l.y[i]) / n
		for j, v := range a {
			grad[j] += r * v
		}
	}
	loss /= n
	for j, v := range x {
		loss += 5e-4 * v * v
		grad[j] += 1e-3 * v
	}
	return loss
}

// lossDiff is the difference of two function values relative to the larger
// of torch's and 1: near a minimum of 0 the value is below the rounding of
// the function's terms.
func lossDiff(got, want float64) float64 {
	return math.Abs(got-want) / max(math.Abs(want), 1)
}

// rosenbrock is gonum's extended Rosenbrock function as LBFGS takes it.
func rosenbrock(x, grad []float64) float64 {
	functions.ExtendedRosenbrock{}.Grad(grad, x)
	return functions.ExtendedRosenbrock{}.Func(x)
}

// cubic is −Σ(xᵢ³ + xᵢ), whose slope along the descent direction steepens
// without end: the strong Wolfe line search extrapolates until it runs out of
// evaluations.
func cubic(x, grad []float64) float64 {
	var f float64
	for i, v := range x {
		f -= v*v*v + v
		grad[i] = -(3*(v*v) + 1)
	}
	return f
}

// lbfgsTorch builds LBFGS from torch.optim.LBFGS's keyword arguments, from
// DefaultLBFGSSettings as a torch user would.
func lbfgsTorch(n int, kw map[string]any) (*LBFGS, error) {
	s := DefaultLBFGSSettings()
	if v, ok := kw["lr"]; ok {
		s.LR = v.(float64)
	}
	if v, ok := kw["max_iter"]; ok {
		s.MaxIter = int(v.(float64))
	}
	if v, ok := kw["max_eval"]; ok {
		s.MaxEval = int(v.(float64))
	}
	if v, ok := kw["history_size"]; ok {
		s.History = int(v.(float64))
	}
	if v, ok := kw["line_search_fn"]; ok {
		if v != "strong_wolfe" {
			return nil, fmt.Errorf("line search %v", v)
		}
		s.StrongWolfe = true
	}
	return NewLBFGS(n, s)
}

// TestTorchLBFGS runs LBFGS against torch.optim.LBFGS, with and without the
// strong Wolfe line search, on Rosenbrock's function and a logistic
// regression: after every Step the parameters and the loss Step returns agree
// with torch's to rounding, and the iteration and evaluation counts, which
// record every branch the line search took, agree exactly.
func TestTorchLBFGS(t *testing.T) {
	ref := readReference(t)
	if len(ref.LBFGS) < 16 {
		t.Fatalf("%d L-BFGS references, want 16", len(ref.LBFGS))
	}
	for i := range ref.LBFGS {
		c := &ref.LBFGS[i]
		t.Run(fmt.Sprintf("%v/%s", c.Settings, c.Problem), func(t *testing.T) {
			x, f := lbfgsProblem(t, ref, c.Problem)
			opt, err := lbfgsTorch(len(x), c.Settings)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for k := range c.X {
				worst = max(worst, stepLikeTorch(t, opt, x, f, c, k, lbfgsTol))
			}
			t.Logf("largest relative difference from torch over %d steps (%d iterations): %.2g", len(c.X), opt.Iterations(), worst)
		})
	}
}

// TestTorchLBFGSFromTorchState checks each Step on its own: from torch's
// state and parameters after step k (its direction, step length, previous
// gradient, pairs with their ρ, and H₀'s scale, installed as they are), one
// Step gives torch's parameters, loss and counts after step k+1. Run freely,
// the two trajectories part by rounding amplified over the iterations (see
// TestTorchLBFGS); from a common state each Step agrees to lbfgsStepTol.
func TestTorchLBFGSFromTorchState(t *testing.T) {
	ref := readReference(t)
	for i := range ref.LBFGS {
		c := &ref.LBFGS[i]
		t.Run(fmt.Sprintf("%v/%s", c.Settings, c.Problem), func(t *testing.T) {
			_, f := lbfgsProblem(t, ref, c.Problem)
			var worst float64
			for k := 1; k < len(c.X); k++ {
				opt, err := lbfgsTorch(len(c.X[k]), c.Settings)
				if err != nil {
					t.Fatal(err)
				}
				st := c.State[k-1]
				opt.iters, opt.evals, opt.t, opt.hDiag = c.NIter[k-1], c.FuncEvals[k-1], st.T, st.HDiag
				copy(opt.d, st.D)
				copy(opt.gPrev, st.PrevGrad)
				for j := range st.S {
					opt.pairs = append(opt.pairs, pair{s: slices.Clone(st.S[j]), y: slices.Clone(st.Y[j]), rho: st.Rho[j]})
				}
				worst = max(worst, stepLikeTorch(t, opt, slices.Clone(c.X[k-1]), f, c, k, lbfgsStepTol))
			}
			t.Logf("largest relative difference from torch over single steps: %.2g", worst)
		})
	}
}

// lbfgsProblem returns the start and the function of a reference problem.
func lbfgsProblem(t *testing.T, ref *reference, problem string) ([]float64, func(x, grad []float64) float64) {
	switch problem {
	case "rosenbrock":
		return slices.Clone(ref.RosenbrockX0), rosenbrock
	case "logistic":
		return make([]float64, len(ref.LogisticA[0])), logistic{a: ref.LogisticA, y: ref.LogisticY}.f
	}
	t.Fatalf("unknown problem %q", problem)
	return nil, nil
}

// stepLikeTorch takes opt's Step from x and checks it against torch's step
// k+1 of c: the iteration and evaluation counts exactly, x and the loss to
// tol. It returns the relative difference in x.
func stepLikeTorch(t *testing.T, opt *LBFGS, x []float64, f func(x, grad []float64) float64, c *lbfgsRef, k int, tol float64) float64 {
	t.Helper()
	loss, err := opt.Step(x, f)
	if err != nil {
		t.Fatalf("step %d: %v", k+1, err)
	}
	if opt.Iterations() != c.NIter[k] || opt.Evaluations() != c.FuncEvals[k] {
		t.Fatalf("step %d: %d iterations and %d evaluations, torch %d and %d",
			k+1, opt.Iterations(), opt.Evaluations(), c.NIter[k], c.FuncEvals[k])
	}
	d := relDiff(x, c.X[k])
	if dl := lossDiff(loss, c.Loss[k]); !(d <= tol && dl <= tol) {
		t.Fatalf("step %d: relative difference %.3g in x and %.3g in the loss from torch\ngot  %v\nwant %v", k+1, d, dl, x, c.X[k])
	}
	return d
}

// TestLBFGSLineSearchLimit checks the line search's end when its 25
// evaluations run out while every trial still decreases the function (a
// function whose slope steepens without end): it takes the last trial step,
// as torch does. torch.optim.LBFGS(line_search_fn="strong_wolfe",
// max_iter=1) on this function from this start also reports 27 evaluations
// after its first step (its trial steps then part from ours by rounding: the
// cubic fit is near degenerate so far out).
func TestLBFGSLineSearchLimit(t *testing.T) {
	opt := mustLBFGS(t, 4, LBFGSSettings{StrongWolfe: true, MaxIter: 1})
	x := []float64{0.5, -1, 0.25, 2}
	g := make([]float64, 4)
	f0 := cubic(x, g)
	var last []float64
	loss, err := opt.Step(x, func(x, grad []float64) float64 {
		last = slices.Clone(x)
		return cubic(x, grad)
	})
	if err != nil {
		t.Fatal(err)
	}
	if loss != f0 || opt.Evaluations() != 1+1+wolfeMaxEvals || opt.Iterations() != 1 {
		t.Fatalf("loss %v, %d evaluations and %d iterations, want %v, 27 and 1", loss, opt.Evaluations(), opt.Iterations(), f0)
	}
	if !sameBits(x, last) {
		t.Fatalf("x = %v, the last trial point %v", x, last)
	}
	if f := cubic(x, g); !(f < f0) {
		t.Fatalf("f = %v after the step, %v before", f, f0)
	}
}

func mustLBFGS(t testing.TB, n int, s LBFGSSettings) *LBFGS {
	t.Helper()
	o, err := NewLBFGS(n, s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestLBFGSBadInput checks LBFGS's settings errors, its panics on a length
// mismatch or a nil function, and that a NaN or an infinity from the
// function is an error wrapping ErrNonFinite: at x on entry with x and the
// saved state unchanged; at a point the line search or the fixed step tries,
// with x back at the iterate the iteration started from, from which Step
// continues once the learning rate is smaller.
func TestLBFGSBadInput(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		s    LBFGSSettings
	}{
		{"negative LR", LBFGSSettings{LR: -1}},
		{"NaN LR", LBFGSSettings{LR: nan}},
		{"negative MaxIter", LBFGSSettings{MaxIter: -1}},
		{"negative MaxEval", LBFGSSettings{MaxEval: -2}},
		{"negative History", LBFGSSettings{History: -1}},
		{"negative TolGrad", LBFGSSettings{TolGrad: -1e-7}},
		{"NaN TolChange", LBFGSSettings{TolChange: nan}},
	} {
		if _, err := NewLBFGS(3, c.s); err == nil || !strings.HasPrefix(err.Error(), "firstorder: LBFGS: ") {
			t.Errorf("%s: error %v", c.name, err)
		}
	}
	if _, err := NewLBFGS(0, LBFGSSettings{}); err == nil {
		t.Error("no parameters: no error")
	}

	opt := mustLBFGS(t, 2, DefaultLBFGSSettings())
	for _, c := range []struct {
		name string
		x    []float64
		f    func(x, grad []float64) float64
		msg  string
	}{
		{"short x", []float64{1}, rosenbrock, "built for 2 parameters, len(x) = 1"},
		{"nil function", []float64{1, 2}, nil, "nil function"},
	} {
		if msg := panicMessage(func() { opt.Step(c.x, c.f) }); !strings.HasPrefix(msg, "firstorder: ") || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: panic %q", c.name, msg)
		}
	}

	// Rosenbrock's function inside |x|∞ < 1.5, NaN (or an infinite
	// gradient) outside.
	walled := func(bad float64, inGrad bool) func(x, grad []float64) float64 {
		return func(x, grad []float64) float64 {
			f := rosenbrock(x, grad)
			if math.Abs(x[0]) >= 1.5 || math.Abs(x[1]) >= 1.5 {
				if inGrad {
					grad[1] = bad
					return f
				}
				return bad
			}
			return f
		}
	}
	for _, strong := range []bool{true, false} {
		for _, bad := range []struct {
			v      float64
			inGrad bool
			msg    string
		}{{nan, false, "f(x) = NaN"}, {math.Inf(-1), false, "f(x) = -Inf"}, {math.Inf(1), true, "grad[1] = +Inf"}} {
			name := fmt.Sprintf("strong Wolfe %t, %s", strong, bad.msg)
			f := walled(bad.v, bad.inGrad)
			// On entry.
			opt := mustLBFGS(t, 2, LBFGSSettings{StrongWolfe: strong, LR: 100, MaxIter: 3})
			x := []float64{2, 1}
			unchanged := snapshotLBFGS(t, opt, x)
			if _, err := opt.Step(x, f); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), bad.msg) {
				t.Errorf("%s, on entry: error %v", name, err)
			}
			unchanged(name + ", on entry")

			// At a trial point: the step of length 100·min(1, 1/‖g‖₁)
			// from (−1.2, 1) leaves the box.
			x = []float64{-1.2, 1}
			loss, err := opt.Step(x, f)
			if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), bad.msg) {
				t.Errorf("%s, at a trial point: error %v", name, err)
			}
			if x[0] != -1.2 || x[1] != 1 || loss != rosenbrock([]float64{-1.2, 1}, make([]float64, 2)) {
				t.Errorf("%s: x = %v, loss %v after the error, want (−1.2, 1) and f there", name, x, loss)
			}
			opt.SetLearningRate(1e-3)
			if _, err := opt.Step(x, f); err != nil {
				t.Errorf("%s: after the error, with a small rate: %v", name, err)
			}
			if g := make([]float64, 2); !(rosenbrock(x, g) < rosenbrock([]float64{-1.2, 1}, g)) {
				t.Errorf("%s: no decrease after the error", name)
			}
		}
	}
}

// snapshotLBFGS is snapshot for LBFGS.
func snapshotLBFGS(t *testing.T, opt *LBFGS, x []float64) func(what string) {
	t.Helper()
	var before bytes.Buffer
	if err := opt.Save(&before); err != nil {
		t.Fatal(err)
	}
	x0 := slices.Clone(x)
	return func(what string) {
		t.Helper()
		var after bytes.Buffer
		opt.Save(&after)
		if !sameBits(x, x0) || !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Fatalf("%s: x or the state changed", what)
		}
	}
}

// TestLBFGSResume checks that saving after some Steps, loading into a fresh
// LBFGS and continuing is bit-identical to the run that never stopped, with
// and without the line search and with the pair ring wrapped around, and
// that Reset gives a fresh state.
func TestLBFGSResume(t *testing.T) {
	for _, s := range []LBFGSSettings{
		{StrongWolfe: true, MaxIter: 3, History: 4},
		{LR: 0.5, MaxIter: 4, History: 3},
	} {
		t.Run(fmt.Sprint(s.StrongWolfe), func(t *testing.T) {
			ref, x := mustLBFGS(t, 10, s), []float64{-1.2, 1, -1.2, 1, -1.2, 1, -1.2, 1, -1.2, 1}
			first, x1 := mustLBFGS(t, 10, s), slices.Clone(x)
			for range 5 {
				ref.Step(x, rosenbrock)
				first.Step(x1, rosenbrock)
			}
			if len(first.pairs) != first.s.History || first.first == 0 {
				t.Fatalf("%d pairs, oldest at %d: the ring has not wrapped", len(first.pairs), first.first)
			}
			var saved bytes.Buffer
			if err := first.Save(&saved); err != nil {
				t.Fatal(err)
			}
			second := mustLBFGS(t, 10, s)
			second.Step(slices.Clone(x1), rosenbrock) // state of its own, replaced
			if err := second.Load(&saved); err != nil {
				t.Fatal(err)
			}
			if saved.Len() != 0 {
				t.Fatalf("%d bytes left unread", saved.Len())
			}
			for range 4 {
				l1, _ := ref.Step(x, rosenbrock)
				l2, _ := second.Step(x1, rosenbrock)
				if l1 != l2 || !sameBits(x, x1) {
					t.Fatalf("resumed run differs: %v, %v", x1, x)
				}
			}
			if second.Iterations() != ref.Iterations() || second.Evaluations() != ref.Evaluations() || second.Steps() != ref.Steps() {
				t.Fatal("counts differ after resuming")
			}
			var a, b bytes.Buffer
			second.Reset()
			second.Save(&a)
			mustLBFGS(t, 10, s).Save(&b)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("state after Reset differs from a new LBFGS's")
			}
		})
	}
}

// TestLBFGSLoadErrors checks that Load refuses states that do not fit the
// optimizer or that Step could not have written, and changes nothing.
func TestLBFGSLoadErrors(t *testing.T) {
	const n = 4
	s := LBFGSSettings{StrongWolfe: true, History: 3}
	src := mustLBFGS(t, n, s)
	x := []float64{-1.2, 1, -1.2, 1}
	src.Step(x, rosenbrock)
	if len(src.pairs) != 3 {
		t.Fatalf("%d pairs, want 3", len(src.pairs))
	}
	var buf bytes.Buffer
	src.Save(&buf)
	data := buf.Bytes()
	// Offsets: the header, then the group count, iterations, evaluations,
	// t, the pair count, d, the previous gradient and the pairs.
	at := 8 + 4 + 1 + len("LBFGS") + 24
	tAt, kAt := at+4+16, at+4+16+8
	dAt := kAt + 4
	pairAt := dAt + 2*n*8
	adam, _ := savedAdam(t, n)
	var adamState bytes.Buffer
	adam.Save(&adamState)
	for _, c := range []struct {
		name string
		opt  *LBFGS
		data []byte
		msg  string
	}{
		{"other kind", mustLBFGS(t, n, s), adamState.Bytes(), `state is of "Adam-amsgrad", want "LBFGS"`},
		{"other length", mustLBFGS(t, n+1, s), data, "state has 4 parameters, want 5"},
		{"smaller History", mustLBFGS(t, n, LBFGSSettings{History: 2}), data, "state has 3 pairs, more than History = 2"},
		{"groups", mustLBFGS(t, n, s), withUint32(data, at, 1), "state has 1 parameter groups, want 0"},
		{"negative t", mustLBFGS(t, n, s), withFloat(data, tAt, -1), "step length -1"},
		{"NaN direction", mustLBFGS(t, n, s), withFloat(data, dAt+8, nan()), "direction: element 1 is NaN"},
		{"infinite previous gradient", mustLBFGS(t, n, s), withFloat(data, dAt+n*8, math.Inf(1)), "previous gradient: element 0 is +Inf"},
		{"zero pair", mustLBFGS(t, n, s), zeroed(data, pairAt, 2*n*8), "pair 0 has yᵀs = 0"},
		{"flipped bit", mustLBFGS(t, n, s), flip(data, pairAt+3), "checksum mismatch"},
		{"truncated", mustLBFGS(t, n, s), data[:len(data)-5], "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			unchanged := snapshotLBFGS(t, c.opt, nil)
			err := c.opt.Load(bytes.NewReader(c.data))
			if err == nil || !strings.HasPrefix(err.Error(), "firstorder: loading LBFGS state: ") || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			unchanged("failed Load")
		})
	}
	if err := mustLBFGS(t, n, s).Load(nil); err == nil {
		t.Error("Load(nil): no error")
	}
	if err := src.Save(nil); err == nil {
		t.Error("Save(nil): no error")
	}
}

func nan() float64 { return math.NaN() }

// zeroed returns data with k bytes from off set to 0 and the checksum
// recomputed.
func zeroed(data []byte, off, k int) []byte {
	d := slices.Clone(data)
	clear(d[off : off+k])
	return withUint32(d, len(d)-4, crc32.ChecksumIEEE(d[:len(d)-4]))
}

// TestLBFGSAllocations checks that once its memory is full, a Step allocates
// nothing, with and without the line search.
func TestLBFGSAllocations(t *testing.T) {
	for _, strong := range []bool{true, false} {
		opt := mustLBFGS(t, 10, LBFGSSettings{StrongWolfe: strong, MaxIter: 3, History: 3, LR: 0.5})
		x := []float64{-1.2, 1, -1.2, 1, -1.2, 1, -1.2, 1, -1.2, 1}
		for range 4 {
			opt.Step(x, rosenbrock)
		}
		if a := testing.AllocsPerRun(10, func() { opt.Step(x, rosenbrock) }); a != 0 {
			t.Errorf("strong Wolfe %t: %v allocations per Step", strong, a)
		}
	}
}

// FuzzLoadLBFGS checks that LBFGS's Load never panics, and that whatever it
// accepts it saves back to the same bytes.
func FuzzLoadLBFGS(f *testing.F) {
	src := mustLBFGS(f, 4, LBFGSSettings{StrongWolfe: true, History: 3})
	x := []float64{-1.2, 1, -1.2, 1}
	for range 2 {
		var buf bytes.Buffer
		src.Save(&buf)
		f.Add(buf.Bytes())
		src.Step(x, rosenbrock)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := mustLBFGS(t, 4, LBFGSSettings{History: 3})
		if err := opt.Load(bytes.NewReader(data)); err != nil {
			return
		}
		var buf bytes.Buffer
		if err := opt.Save(&buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, buf.Bytes()) {
			t.Fatal("accepted state does not save back to the same bytes")
		}
	})
}
