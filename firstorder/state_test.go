package firstorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// gradStream returns a seeded stream of gradients of length n, the same for
// the same seed.
func gradStream(seed uint64, n int) func(dst []float64) {
	rnd := rand.New(rand.NewPCG(seed, 3))
	return func(dst []float64) {
		for i := range dst {
			dst[i] = rnd.NormFloat64() * float64(1+i%4)
		}
	}
}

// TestResume checks that saving after k steps, loading into a new optimizer
// and continuing gives exactly the parameters and state of a run that never
// stopped.
func TestResume(t *testing.T) {
	const n, k, more = 19, 23, 17
	for _, c := range configs() {
		t.Run(c.name, func(t *testing.T) {
			// The uninterrupted run.
			ref := mustBuild(t, c, n)
			xRef := make([]float64, n)
			g := make([]float64, n)
			next := gradStream(5, n)
			for range k + more {
				next(g)
				if err := ref.Step(xRef, g); err != nil {
					t.Fatal(err)
				}
			}

			// The interrupted one: k steps, save, load into a fresh
			// optimizer (after some steps of its own), continue.
			first := mustBuild(t, c, n)
			x := make([]float64, n)
			next = gradStream(5, n)
			for range k {
				next(g)
				if err := first.Step(x, g); err != nil {
					t.Fatal(err)
				}
			}
			var saved bytes.Buffer
			if err := first.Save(&saved); err != nil {
				t.Fatal(err)
			}
			second := mustBuild(t, c, n)
			other := gradStream(99, n)
			for range 3 {
				other(g)
				second.Step(make([]float64, n), g)
			}
			if err := second.Load(bytes.NewReader(saved.Bytes())); err != nil {
				t.Fatal(err)
			}
			if second.Steps() != k {
				t.Fatalf("Steps() = %d after loading, want %d", second.Steps(), k)
			}
			for range more {
				next(g)
				if err := second.Step(x, g); err != nil {
					t.Fatal(err)
				}
			}
			if !sameBits(x, xRef) {
				t.Fatalf("resumed run differs from the uninterrupted one:\n%v\n%v", x, xRef)
			}
			var a, b bytes.Buffer
			ref.Save(&a)
			second.Save(&b)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("resumed state differs from the uninterrupted one")
			}

			// Reset gives the state of a new optimizer.
			second.Reset()
			a.Reset()
			b.Reset()
			second.Save(&a)
			mustBuild(t, c, n).Save(&b)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("state after Reset differs from a new optimizer's")
			}
		})
	}
}

// savedAdam returns an Adam with a few steps taken and its saved state.
func savedAdam(t testing.TB, n int) (*Adam, []byte) {
	s := DefaultAdamSettings()
	s.AMSGrad = true
	opt, err := NewAdam(n, s)
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, n)
	next := gradStream(1, n)
	for range 4 {
		next(g)
		opt.Step(make([]float64, n), g)
	}
	var buf bytes.Buffer
	if err := opt.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return opt, buf.Bytes()
}

func TestStateFormat(t *testing.T) {
	const n = 3
	opt, data := savedAdam(t, n)
	// The layout the package overview documents.
	kind := "Adam-amsgrad"
	want := 8 + 4 + 1 + len(kind) + 8 + 8 + 8 + 4 + 1 + 0 + 1 + 3*n*8 + 4
	if len(data) != want {
		t.Fatalf("state has %d bytes, want %d", len(data), want)
	}
	if string(data[:8]) != "CKFOSTAT" || binary.LittleEndian.Uint32(data[8:]) != 2 || int(data[12]) != len(kind) || string(data[13:13+len(kind)]) != kind {
		t.Fatalf("header % x", data[:13+len(kind)])
	}
	p := data[13+len(kind):]
	if binary.LittleEndian.Uint64(p) != n || binary.LittleEndian.Uint64(p[8:]) != 4 || math.Float64frombits(binary.LittleEndian.Uint64(p[16:])) != opt.LearningRate() {
		t.Fatal("n, steps or learning rate misplaced")
	}
	if binary.LittleEndian.Uint32(p[24:]) != 0 {
		t.Fatalf("%d parameter groups, want 0 (one group of all)", binary.LittleEndian.Uint32(p[24:]))
	}
	if p[28] != 0 || p[29] != 3 {
		t.Fatalf("%d scalars and %d buffers, want 0 and 3", p[28], p[29])
	}
	v0 := math.Float64frombits(binary.LittleEndian.Uint64(p[30+n*8:])) // first element of v
	if v0 != opt.bufs[1][0] {
		t.Fatalf("v[0] = %v in the file, %v in the optimizer", v0, opt.bufs[1][0])
	}
}

func TestLoadErrors(t *testing.T) {
	const n = 5
	_, data := savedAdam(t, n)
	build := func() *Adam {
		o, _ := NewAdam(n, AdamSettings{AMSGrad: true})
		return o
	}
	corrupt := func(i int, b byte) []byte {
		d := slices.Clone(data)
		d[i] ^= b
		return d
	}
	for _, c := range []struct {
		name string
		opt  Optimizer
		data []byte
		msg  string
	}{
		{"empty", build(), nil, "unexpected EOF"},
		{"not a state", build(), []byte("hello, world, this is not it"), "not a firstorder state"},
		{"version", build(), corrupt(8, 2), "format version"},
		{"other optimizer", mustOpt(NewAdamW(n, AdamWSettings{AMSGrad: true})), data, `state is of "Adam-amsgrad", want "AdamW-amsgrad"`},
		{"other variant", mustOpt(NewAdam(n, AdamSettings{})), data, `want "Adam"`},
		{"other length", mustOpt(NewAdam(n+1, AdamSettings{AMSGrad: true})), data, "state has 5 parameters, want 6"},
		{"flipped bit", build(), corrupt(len(data)-20, 1), "checksum mismatch"},
		{"truncated", build(), data[:len(data)-1], "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			unchanged := snapshot(t, c.opt, nil)
			err := c.opt.Load(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			unchanged("failed Load")
		})
	}

	// Every truncation fails, and nothing past the state is read.
	for k := range len(data) {
		if err := build().Load(bytes.NewReader(data[:k])); err == nil {
			t.Fatalf("Load accepted %d of %d bytes", k, len(data))
		}
	}
	r := bytes.NewReader(append(slices.Clone(data), "trailer"...))
	if err := build().Load(r); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "trailer" {
		t.Fatalf("Load consumed data after the state: %q left", rest)
	}

	// A failing writer's error is returned.
	o := build()
	if err := o.Save(failingWriter{}); !errors.Is(err, errWrite) {
		t.Fatalf("Save to a failing writer: %v", err)
	}
}

func mustOpt(o Optimizer, err error) Optimizer {
	if err != nil {
		panic(err)
	}
	return o
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// FuzzLoad checks that Load never panics, and that whatever it accepts it
// saves back to the same bytes (a version-1 state, to bytes that load to the
// same state).
func FuzzLoad(f *testing.F) {
	opt, data := savedAdam(f, 5)
	f.Add(data)
	opt.SetGroups([]Group{{Name: "a", Spans: []Span{{0, 2}, {3, 5}}, LRScale: 0.5}, {Name: "b", Spans: []Span{{2, 3}}, WeightDecayScale: 1}})
	var grouped bytes.Buffer
	opt.Save(&grouped)
	f.Add(grouped.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		opt, _ := NewAdam(5, AdamSettings{AMSGrad: true})
		if err := opt.Load(bytes.NewReader(data)); err != nil {
			return
		}
		var buf bytes.Buffer
		if err := opt.Save(&buf); err != nil {
			t.Fatal(err)
		}
		if binary.LittleEndian.Uint32(data[8:]) == 1 {
			again, _ := NewAdam(5, AdamSettings{AMSGrad: true})
			var buf2 bytes.Buffer
			if err := again.Load(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatalf("a loaded version-1 state saved to bytes Load refuses: %v", err)
			}
			again.Save(&buf2)
			if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
				t.Fatal("a loaded version-1 state does not resave to the same bytes")
			}
			return
		}
		if !bytes.HasPrefix(data, buf.Bytes()) {
			t.Fatal("accepted state does not save back to the same bytes")
		}
	})
}

// TestLoadVersion1 checks that a state in the format before parameter groups
// (no group count) loads as one group of all the parameters, with its
// buffers, and that Load refuses a version it does not know.
func TestLoadVersion1(t *testing.T) {
	const n = 5
	src, data := savedAdam(t, n)
	head := 8 + 4 + 1 + len("Adam-amsgrad") + 24
	if binary.LittleEndian.Uint32(data[head:]) != 0 {
		t.Fatal("expected no groups in the saved state")
	}
	v1 := slices.Concat(data[:head], data[head+4:len(data)-4])
	binary.LittleEndian.PutUint32(v1[8:], 1)
	v1 = binary.LittleEndian.AppendUint32(v1, crc32.ChecksumIEEE(v1))
	opt, _ := NewAdam(n, AdamSettings{AMSGrad: true})
	if err := opt.SetGroups(NoDecay(n, Span{1, 2})); err != nil {
		t.Fatal(err)
	}
	if err := opt.Load(bytes.NewReader(v1)); err != nil {
		t.Fatal(err)
	}
	if opt.Groups() != nil || opt.Steps() != src.Steps() {
		t.Fatalf("groups %v, %d steps after loading a version-1 state, want none and %d", opt.Groups(), opt.Steps(), src.Steps())
	}
	for k := range src.bufs {
		if !sameBits(opt.bufs[k], src.bufs[k]) {
			t.Fatalf("buffer %d differs after loading a version-1 state", k)
		}
	}
	v3 := slices.Clone(data[:len(data)-4])
	binary.LittleEndian.PutUint32(v3[8:], 3)
	v3 = binary.LittleEndian.AppendUint32(v3, crc32.ChecksumIEEE(v3))
	if err := opt.Load(bytes.NewReader(v3)); err == nil || !strings.Contains(err.Error(), "format version 3, want 1 to 2") {
		t.Fatalf("version 3: error %v", err)
	}
}

// TestResumeWrappers checks that saving a wrapped optimizer, loading it into
// a fresh one built the same way and continuing is bit-identical to the
// uninterrupted run, when the wrappers hold state beyond the wrapped
// optimizer's: a base rate set after building, in nested schedules.
func TestResumeWrappers(t *testing.T) {
	const n, k, more = 9, 13, 11
	sgd := func() Optimizer { return mustOpt(NewSGD(n, SGDSettings{LR: 0.01, Momentum: 0.9})) }
	adam := func() Optimizer { return mustOpt(NewAdam(n, adamLR(0.01))) }
	for _, c := range []struct {
		name  string
		build func() Optimizer
		prep  func(Optimizer) // what the first run did after building
	}{
		{"Scheduled base changed", func() Optimizer {
			return mustOpt(NewScheduled(adam(), Exponential{Gamma: 0.9}))
		}, func(o Optimizer) { o.SetLearningRate(0.02) }},
		{"Clipped(Scheduled) base changed", func() Optimizer {
			return mustOpt(NewClipped(mustOpt(NewScheduled(sgd(), StepDecay{Every: 4, Gamma: 0.5})), 0.5))
		}, func(o Optimizer) { o.SetLearningRate(0.03) }},
		{"Scheduled(Clipped) warm-up", func() Optimizer {
			inner := mustOpt(NewClipped(adam(), 1))
			return mustOpt(NewScheduled(inner, Warmup{Steps: 5, Then: Cosine{Steps: 20, Min: 1e-4}}))
		}, func(o Optimizer) { o.SetLearningRate(0.05) }},
		{"Scheduled(Scheduled) both bases changed", func() Optimizer {
			return mustOpt(NewScheduled(mustOpt(NewScheduled(adam(), Exponential{Gamma: 0.95})), Cosine{Steps: 30}))
		}, func(o Optimizer) {
			o.(*Scheduled).opt.SetLearningRate(0.2)
			o.SetLearningRate(0.04)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := make([]float64, n)
			run := func(o Optimizer, x []float64, next func([]float64), steps int) {
				for range steps {
					next(g)
					if err := o.Step(x, g); err != nil {
						t.Fatal(err)
					}
				}
			}
			ref, xRef := c.build(), make([]float64, n)
			c.prep(ref)
			run(ref, xRef, gradStream(7, n), k+more)

			first, x := c.build(), make([]float64, n)
			c.prep(first)
			next := gradStream(7, n)
			run(first, x, next, k)
			rate := first.LearningRate()
			var saved bytes.Buffer
			if err := first.Save(&saved); err != nil {
				t.Fatal(err)
			}
			second := c.build()
			if err := second.Load(&saved); err != nil {
				t.Fatal(err)
			}
			if saved.Len() != 0 {
				t.Fatalf("%d bytes of the state left unread", saved.Len())
			}
			if got := second.LearningRate(); got != rate {
				t.Fatalf("learning rate %v after loading, %v when saved", got, rate)
			}
			run(second, x, next, more)
			if !sameBits(x, xRef) {
				t.Fatalf("resumed run differs from the uninterrupted one:\n%v\n%v", x, xRef)
			}
		})
	}
}

// TestScheduledLoadErrors checks that a Scheduled optimizer refuses a state
// that is not its own, and changes neither its base rate nor the wrapped
// optimizer's state when the wrapped part fails.
func TestScheduledLoadErrors(t *testing.T) {
	const n = 4
	build := func() *Scheduled {
		return mustOpt(NewScheduled(mustOpt(NewAdam(n, adamLR(0.01))), Exponential{Gamma: 0.9})).(*Scheduled)
	}
	src := build()
	src.SetLearningRate(0.5)
	src.Step(make([]float64, n), []float64{1, 2, 3, 4})
	var whole, bare bytes.Buffer
	src.Save(&whole)
	src.opt.Save(&bare)

	for _, c := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"the wrapped optimizer's state alone", bare.Bytes(), `state is of "Adam", want "Scheduled"`},
		{"wrapped state truncated", whole.Bytes()[:whole.Len()-3], "loading Adam state: unexpected EOF"},
		{"wrapped state corrupt", flip(whole.Bytes(), whole.Len()-9), "loading Adam state: checksum mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := build()
			unchanged := snapshot(t, dst, nil) // the base rate is in the saved state
			err := dst.Load(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			unchanged("failed Load")
		})
	}
}

func flip(data []byte, i int) []byte {
	d := slices.Clone(data)
	d[i] ^= 1
	return d
}

// withFloat returns data, a saved state, with the float64 at offset off
// replaced by v and the checksum recomputed: a state Save could not have
// written that nonetheless passes the checksum.
func withFloat(data []byte, off int, v float64) []byte {
	d := slices.Clone(data)
	binary.LittleEndian.PutUint64(d[off:], math.Float64bits(v))
	binary.LittleEndian.PutUint32(d[len(d)-4:], crc32.ChecksumIEEE(d[:len(d)-4]))
	return d
}

// withUint64 and withUint32 are withFloat for integers.
func withUint64(data []byte, off int, v uint64) []byte {
	return withFloat(data, off, math.Float64frombits(v))
}

func withUint32(data []byte, off int, v uint32) []byte {
	d := slices.Clone(data)
	binary.LittleEndian.PutUint32(d[off:], v)
	binary.LittleEndian.PutUint32(d[len(d)-4:], crc32.ChecksumIEEE(d[:len(d)-4]))
	return d
}

// TestLoadValues checks that Load refuses states with a valid checksum whose
// values would put NaN into θ on the next step, accepts the extreme values
// that steps can reach, and that what it accepts steps to finite θ.
func TestLoadValues(t *testing.T) {
	const n = 5
	_, adamData := savedAdam(t, n)
	// Adam-amsgrad: header, no scalars, then m, v, v_max of n floats each.
	adamBuf := func(b, j int) int { return 8 + 4 + 1 + len("Adam-amsgrad") + 24 + 4 + 1 + 1 + (b*n+j)*8 }
	nadam := mustOpt(NewNAdam(n, DefaultNAdamSettings()))
	nadam.Step(make([]float64, n), []float64{1, -1, 2, 0, 3})
	var nadamState bytes.Buffer
	nadam.Save(&nadamState)
	nadamScalar := 8 + 4 + 1 + len("NAdam") + 24 + 4 + 1
	newAdam := func() Optimizer {
		s := DefaultAdamSettings()
		s.AMSGrad = true
		return mustOpt(NewAdam(n, s))
	}
	newNAdam := func() Optimizer { return mustOpt(NewNAdam(n, DefaultNAdamSettings())) }

	for _, c := range []struct {
		name  string
		build func() Optimizer
		data  []byte
		msg   string // "" if the state is valid
	}{
		{"NaN first moment", newAdam, withFloat(adamData, adamBuf(0, 2), math.NaN()), "buffer 0: element 2 is NaN"},
		{"infinite first moment", newAdam, withFloat(adamData, adamBuf(0, 4), math.Inf(-1)), "buffer 0: element 4 is -Inf"},
		{"NaN second moment", newAdam, withFloat(adamData, adamBuf(1, 0), math.NaN()), "buffer 1: element 0 is NaN"},
		{"negative second moment", newAdam, withFloat(adamData, adamBuf(1, 3), -1e-3), "buffer 1: element 3 is -0.001"},
		{"negative maximum", newAdam, withFloat(adamData, adamBuf(2, 1), math.Inf(-1)), "buffer 2: element 1 is -Inf"},
		{"μ product above 1", newNAdam, withFloat(nadamState.Bytes(), nadamScalar, 1.5), "scalar 0 is 1.5"},
		{"NaN μ product", newNAdam, withFloat(nadamState.Bytes(), nadamScalar, math.NaN()), "scalar 0 is NaN"},
		// A squared gradient can overflow; dividing by +Inf leaves θ alone.
		{"infinite second moment", newAdam, withFloat(withFloat(adamData, adamBuf(1, 3), math.Inf(1)), adamBuf(2, 3), math.Inf(1)), ""},
		{"zero second moment", newAdam, withFloat(withFloat(adamData, adamBuf(1, 2), 0), adamBuf(2, 2), 0), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := c.build()
			unchanged := snapshot(t, opt, nil)
			err := opt.Load(bytes.NewReader(c.data))
			if c.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				x := []float64{1, 2, 3, 4, 5}
				if err := opt.Step(x, []float64{0, 1, 0, -1, 2}); err != nil {
					t.Fatal(err)
				}
				if !vecFinite(x) {
					t.Fatalf("θ = %v after a step from the loaded state", x)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			unchanged("failed Load")
		})
	}
}

func vecFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// TestNilReaderWriter checks that a nil reader or writer is an error, not a
// nil dereference, for optimizers and wrappers.
func TestNilReaderWriter(t *testing.T) {
	for _, c := range configs() {
		opt := mustBuild(t, c, 3)
		if err := opt.Load(nil); err == nil || !strings.Contains(err.Error(), "nil reader") {
			t.Errorf("%s: Load(nil) = %v", c.name, err)
		}
		if err := opt.Save(nil); err == nil || !strings.Contains(err.Error(), "nil writer") {
			t.Errorf("%s: Save(nil) = %v", c.name, err)
		}
	}
}
