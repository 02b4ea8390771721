package firstorder

import (
	"bytes"
	"encoding/binary"
	"errors"
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
	opt, err := NewAdam(n, AdamSettings{AMSGrad: true})
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
	want := 8 + 4 + 1 + len(kind) + 8 + 8 + 8 + 1 + 0 + 1 + 3*n*8 + 4
	if len(data) != want {
		t.Fatalf("state has %d bytes, want %d", len(data), want)
	}
	if string(data[:8]) != "CKFOSTAT" || binary.LittleEndian.Uint32(data[8:]) != 1 || int(data[12]) != len(kind) || string(data[13:13+len(kind)]) != kind {
		t.Fatalf("header % x", data[:13+len(kind)])
	}
	p := data[13+len(kind):]
	if binary.LittleEndian.Uint64(p) != n || binary.LittleEndian.Uint64(p[8:]) != 4 || math.Float64frombits(binary.LittleEndian.Uint64(p[16:])) != opt.LearningRate() {
		t.Fatal("n, steps or learning rate misplaced")
	}
	if p[24] != 0 || p[25] != 3 {
		t.Fatalf("%d scalars and %d buffers, want 0 and 3", p[24], p[25])
	}
	v0 := math.Float64frombits(binary.LittleEndian.Uint64(p[26+n*8:])) // first element of v
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
			var before bytes.Buffer
			c.opt.Save(&before)
			err := c.opt.Load(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			var after bytes.Buffer
			c.opt.Save(&after)
			if !bytes.Equal(before.Bytes(), after.Bytes()) {
				t.Fatal("failed Load changed the state")
			}
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
// saves back to the same bytes.
func FuzzLoad(f *testing.F) {
	_, data := savedAdam(f, 5)
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		opt, _ := NewAdam(5, AdamSettings{AMSGrad: true})
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
