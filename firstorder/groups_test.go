package firstorder

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
)

// kind builds one optimizer kind with a learning rate, a weight decay and the
// maximize flag set, the rest fixed; the list has every optimizer and the
// variants whose update loops differ (the assembly kernels, AMSGrad, coupled
// and decoupled decay, rectification, ASGD's averaging).
type kind struct {
	name  string
	build func(n int, lr, wd float64, maximize bool) (Optimizer, error)
}

// kindOf returns the build of the optimizer that newOpt makes from the
// settings s as set changes them.
func kindOf[S any, O Optimizer](s S, newOpt func(int, S) (O, error), set func(s *S, lr, wd float64, maximize bool)) func(int, float64, float64, bool) (Optimizer, error) {
	return func(n int, lr, wd float64, maximize bool) (Optimizer, error) {
		c := s
		set(&c, lr, wd, maximize)
		return newOpt(n, c)
	}
}

func kinds() []kind {
	return []kind{
		{"SGD", func(n int, lr, wd float64, max bool) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: lr, WeightDecay: wd, Maximize: max})
		}},
		{"SGD-momentum", func(n int, lr, wd float64, max bool) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: lr, Momentum: 0.9, WeightDecay: wd, Maximize: max})
		}},
		{"SGD-momentum-kernel", func(n int, lr, _ float64, max bool) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: lr, Momentum: 0.9, Dampening: 0.2, Maximize: max})
		}},
		{"SGD-nesterov", func(n int, lr, wd float64, max bool) (Optimizer, error) {
			return NewSGD(n, SGDSettings{LR: lr, Momentum: 0.8, Nesterov: true, WeightDecay: wd, Maximize: max})
		}},
		{"Adagrad", func(n int, lr, wd float64, max bool) (Optimizer, error) {
			return NewAdagrad(n, AdagradSettings{LR: lr, LRDecay: 0.01, WeightDecay: wd, InitialAccumulator: 0.1, Maximize: max})
		}},
		{"RMSprop-centered-momentum", kindOf(DefaultRMSpropSettings(), NewRMSprop, func(s *RMSpropSettings, lr, wd float64, max bool) {
			s.LR, s.WeightDecay, s.Momentum, s.Centered, s.Maximize = lr, wd, 0.5, true, max
		})},
		{"Adam", kindOf(DefaultAdamSettings(), NewAdam, func(s *AdamSettings, lr, wd float64, max bool) { s.LR, s.WeightDecay, s.Maximize = lr, wd, max })},
		{"Adam-kernel", kindOf(DefaultAdamSettings(), NewAdam, func(s *AdamSettings, lr, _ float64, max bool) { s.LR, s.Maximize = lr, max })},
		{"AdamW", kindOf(DefaultAdamWSettings(), NewAdamW, func(s *AdamWSettings, lr, wd float64, max bool) { s.LR, s.WeightDecay, s.Maximize = lr, wd, max })},
		{"AdamW-amsgrad", kindOf(DefaultAdamWSettings(), NewAdamW, func(s *AdamWSettings, lr, wd float64, max bool) {
			s.LR, s.WeightDecay, s.AMSGrad, s.Maximize = lr, wd, true, max
		})},
		{"Adamax", kindOf(DefaultAdamaxSettings(), NewAdamax, func(s *AdamaxSettings, lr, wd float64, max bool) { s.LR, s.WeightDecay, s.Maximize = lr, wd, max })},
		{"NAdam", kindOf(DefaultNAdamSettings(), NewNAdam, func(s *NAdamSettings, lr, wd float64, max bool) { s.LR, s.WeightDecay, s.Maximize = lr, wd, max })},
		{"RAdam", kindOf(DefaultRAdamSettings(), NewRAdam, func(s *RAdamSettings, lr, wd float64, max bool) { s.LR, s.WeightDecay, s.Maximize = lr, wd, max })},
		{"AdaBelief", kindOf(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings, lr, wd float64, max bool) {
			s.LR, s.WeightDecay, s.AMSGrad, s.Maximize = lr, wd, true, max
		})},
		{"AdaBelief-rectified-coupled", kindOf(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings, lr, wd float64, max bool) {
			s.LR, s.WeightDecay, s.CoupledWeightDecay, s.Rectify, s.Maximize = lr, wd, true, true, max
		})},
		{"AdaBelief-fixed-decay", kindOf(DefaultAdaBeliefSettings(), NewAdaBelief, func(s *AdaBeliefSettings, lr, wd float64, max bool) {
			s.LR, s.WeightDecay, s.FixedDecay, s.Maximize = lr, wd, true, max
		})},
		{"Adadelta", kindOf(DefaultAdadeltaSettings(), NewAdadelta, func(s *AdadeltaSettings, lr, wd float64, max bool) { s.LR, s.WeightDecay, s.Maximize = lr, wd, max })},
		{"Rprop", kindOf(DefaultRpropSettings(), NewRprop, func(s *RpropSettings, lr, _ float64, max bool) { s.LR, s.Maximize = lr, max })},
		{"ASGD", kindOf(DefaultASGDSettings(), NewASGD, func(s *ASGDSettings, lr, wd float64, max bool) {
			s.LR, s.WeightDecay, s.Lambda, s.T0, s.Maximize = lr, wd, 0.5, 4, max
		})},
	}
}

// gather copies v's entries in spans, in order, into dst and returns it.
func gather(dst, v []float64, spans []Span) []float64 {
	dst = dst[:0]
	for _, sp := range spans {
		dst = append(dst, v[sp.Start:sp.End]...)
	}
	return dst
}

// TestGroupsMatchSeparate checks, for every optimizer kind, that a run with
// two parameter groups (one of two spans, which the update loops and
// kernels meet at lengths that are not multiples of their blocks) and a
// parameter in no group gives, bit for bit, the parameters of two separate
// optimizers built with each group's learning rate and weight decay and
// stepping that group's parameters alone, also after the learning rate
// changes; the parameter in no group does not move.
func TestGroupsMatchSeparate(t *testing.T) {
	const n, steps, lr, wd = 23, 30, 0.01, 0.05
	groups := []Group{
		// LRScale 0 is 1.
		{Name: "weights", Spans: []Span{{0, 9}, {14, n}}, WeightDecayScale: 1.5},
		{Name: "biases", Spans: []Span{{10, 14}}, LRScale: 0.25},
	}
	frozen := 9
	scales := [][2]float64{{1, 1.5}, {0.25, 0}}
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			opt, err := k.build(n, lr, wd, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := opt.(interface{ SetGroups([]Group) error }).SetGroups(groups); err != nil {
				t.Fatal(err)
			}
			var sep []Optimizer
			var xs [][]float64
			x, g := make([]float64, n), make([]float64, n)
			for i := range x {
				x[i] = math.Sin(float64(i) + 1)
			}
			for i, gr := range groups {
				o, err := k.build(len(gather(nil, x, gr.Spans)), lr*scales[i][0], wd*scales[i][1], false)
				if err != nil {
					t.Fatal(err)
				}
				sep = append(sep, o)
				xs = append(xs, gather(nil, x, gr.Spans))
			}
			next := gradStream(3, n)
			var gs []float64
			for step := range steps {
				if step == steps/2 {
					// The rate of every group moves in proportion.
					const lr2 = 0.004
					opt.SetLearningRate(lr2)
					for i, o := range sep {
						o.SetLearningRate(lr2 * scales[i][0])
					}
				}
				next(g)
				if err := opt.Step(x, g); err != nil {
					t.Fatal(err)
				}
				for i, gr := range groups {
					gs = gather(gs, g, gr.Spans)
					if err := sep[i].Step(xs[i], gs); err != nil {
						t.Fatal(err)
					}
					if got := gather(nil, x, gr.Spans); !sameBits(got, xs[i]) {
						t.Fatalf("step %d, group %q: %v, separately %v", step+1, gr.Name, got, xs[i])
					}
				}
				if x[frozen] != math.Sin(float64(frozen)+1) {
					t.Fatalf("step %d: the parameter in no group moved to %v", step+1, x[frozen])
				}
			}
		})
	}
}

// TestMaximize checks, for every optimizer kind, that Maximize on a gradient
// stream gives bit for bit the parameters of minimizing on the negated
// stream: torch's definition (the gradient is negated before anything else,
// weight decay included). torch.optim's own maximize trajectories are in
// TestTorchTrajectories for the optimizers torch 1.13 has it for.
func TestMaximize(t *testing.T) {
	const n, steps = 13, 25
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			up, err := k.build(n, 0.01, 0.05, true)
			if err != nil {
				t.Fatal(err)
			}
			down, err := k.build(n, 0.01, 0.05, false)
			if err != nil {
				t.Fatal(err)
			}
			x1, x2 := make([]float64, n), make([]float64, n)
			for i := range x1 {
				x1[i] = math.Cos(float64(i))
				x2[i] = x1[i]
			}
			g, neg := make([]float64, n), make([]float64, n)
			next := gradStream(4, n)
			for step := range steps {
				next(g)
				for i := range g {
					neg[i] = -g[i]
				}
				up.Step(x1, g)
				down.Step(x2, neg)
				if !sameBits(x1, x2) {
					t.Fatalf("step %d: maximizing %v, minimizing the negation %v", step+1, x1, x2)
				}
			}
		})
	}
}

// TestSetGroupsErrors checks that SetGroups refuses groups that do not fit
// the parameters, with a message naming the group, and changes nothing.
func TestSetGroupsErrors(t *testing.T) {
	const n = 10
	for _, c := range []struct {
		name   string
		groups []Group
		msg    string
	}{
		{"no spans", []Group{{Name: "a"}}, `group 0 ("a") has no spans`},
		{"empty span", []Group{{Name: "a", Spans: []Span{{3, 3}}}}, "span [3, 3) is empty or outside [0, 10)"},
		{"reversed span", []Group{{Name: "a", Spans: []Span{{5, 2}}}}, "span [5, 2)"},
		{"negative start", []Group{{Name: "a", Spans: []Span{{-1, 2}}}}, "span [-1, 2)"},
		{"beyond n", []Group{{Name: "a", Spans: []Span{{8, 11}}}}, "span [8, 11)"},
		{"overlap within a group", []Group{{Name: "a", Spans: []Span{{0, 5}, {4, 6}}}}, `span [4, 6) of group 0 ("a") overlaps [0, 5) of group 0 ("a")`},
		{"overlap across groups", []Group{{Name: "a", Spans: []Span{{6, 9}}}, {Name: "b", Spans: []Span{{0, 7}}}}, `span [6, 9) of group 0 ("a") overlaps [0, 7) of group 1 ("b")`},
		{"negative LRScale", []Group{{Name: "a", Spans: []Span{{0, 5}}, LRScale: -1}}, "LRScale = -1"},
		{"NaN WeightDecayScale", []Group{{Name: "a", Spans: []Span{{0, 5}}, WeightDecayScale: math.NaN()}}, "WeightDecayScale = NaN"},
		{"infinite LRScale", []Group{{Name: "a", Spans: []Span{{0, 5}}, LRScale: math.Inf(1)}}, "LRScale = +Inf"},
		{"long name", []Group{{Name: strings.Repeat("x", 256), Spans: []Span{{0, 5}}}}, "name of 256 bytes"},
		{"NoDecay beyond n", NoDecay(n, Span{8, 12}), `group 1 ("no decay"): span [8, 12)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := mustOpt(NewAdam(n, adamLR(0.1)))
			good := NoDecay(n, Span{2, 4})
			if err := opt.(*Adam).SetGroups(good); err != nil {
				t.Fatal(err)
			}
			err := opt.(*Adam).SetGroups(c.groups)
			if err == nil || !strings.HasPrefix(err.Error(), "firstorder: Adam: ") || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			if got := opt.(*Adam).Groups(); !slices.EqualFunc(got, good, sameGroup) {
				t.Fatalf("groups %v after a failed SetGroups, want %v", got, good)
			}
		})
	}
}

func sameGroup(a, b Group) bool {
	return a.Name == b.Name && slices.Equal(a.Spans, b.Spans) && a.LRScale == b.LRScale && a.WeightDecayScale == b.WeightDecayScale
}

// TestGroupHelpers checks NoDecay and Biases against the layouts they
// describe, and that SetGroups(nil) restores the single group.
func TestGroupHelpers(t *testing.T) {
	// A 3-2 layer (x[0:8], rows of 3 weights and a bias) then a 2-1 layer
	// (x[8:11]).
	biases := slices.Concat(Biases(0, 8, 3), Biases(8, 11, 2))
	if want := []Span{{3, 4}, {7, 8}, {10, 11}}; !slices.Equal(biases, want) {
		t.Fatalf("Biases: %v, want %v", biases, want)
	}
	got := NoDecay(11, biases[2], biases[0], biases[1])
	want := []Group{
		{Name: "decay", Spans: []Span{{0, 3}, {4, 7}, {8, 10}}, LRScale: 1, WeightDecayScale: 1},
		{Name: "no decay", Spans: []Span{{10, 11}, {3, 4}, {7, 8}}, LRScale: 1},
	}
	if !slices.EqualFunc(got, want, sameGroup) {
		t.Fatalf("NoDecay: %v, want %v", got, want)
	}
	if all := NoDecay(4, Span{0, 4}); len(all) != 1 || all[0].Name != "no decay" {
		t.Fatalf("NoDecay of everything: %v", all)
	}
	if none := NoDecay(4); len(none) != 1 || none[0].Name != "decay" || !slices.Equal(none[0].Spans, []Span{{0, 4}}) {
		t.Fatalf("NoDecay of nothing: %v", none)
	}

	// SGD with weight decay λ and a zero gradient: θ ← (1 − lr·λ)θ where
	// decayed, unchanged at the biases.
	opt := mustOpt(NewSGD(11, SGDSettings{LR: 0.1, WeightDecay: 0.5})).(*SGD)
	if err := opt.SetGroups(got); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 11)
	for i := range x {
		x[i] = 1
	}
	opt.Step(x, make([]float64, 11))
	for i, v := range x {
		want := 1 - 0.1*0.5
		if i == 3 || i == 7 || i == 10 {
			want = 1
		}
		if v != want {
			t.Errorf("θ[%d] = %v, want %v", i, v, want)
		}
	}
	if err := opt.SetGroups(nil); err != nil || opt.Groups() != nil {
		t.Fatalf("SetGroups(nil): %v, groups %v", err, opt.Groups())
	}
	opt.Step(x, make([]float64, 11))
	if x[3] != 1-0.1*0.5 {
		t.Errorf("bias after SetGroups(nil): %v, want decayed", x[3])
	}

	for _, bad := range [][3]int{{0, 7, 3}, {4, 4, 1}, {0, 6, -1}} {
		if msg := panicMessage(func() { Biases(bad[0], bad[1], bad[2]) }); !strings.HasPrefix(msg, "firstorder: Biases: ") {
			t.Errorf("Biases%v: panic %q", bad, msg)
		}
	}
}

// TestGroupsSaveLoad checks that the saved state carries the groups: an
// optimizer built without them that loads it has them, and continues bit for
// bit as the one that saved it; a saved state with corrupt groups is refused.
func TestGroupsSaveLoad(t *testing.T) {
	const n = 12
	groups := []Group{
		{Name: "a", Spans: []Span{{0, 4}, {8, 12}}, LRScale: 2, WeightDecayScale: 1},
		{Name: "b", Spans: []Span{{5, 8}}, LRScale: 0.5},
	}
	build := func() *AdamW {
		s := DefaultAdamWSettings()
		s.LR, s.WeightDecay = 0.01, 0.1
		return mustOpt(NewAdamW(n, s)).(*AdamW)
	}
	src := build()
	if err := src.SetGroups(groups); err != nil {
		t.Fatal(err)
	}
	x, g := make([]float64, n), make([]float64, n)
	next := gradStream(9, n)
	for range 5 {
		next(g)
		src.Step(x, g)
	}
	var saved bytes.Buffer
	if err := src.Save(&saved); err != nil {
		t.Fatal(err)
	}
	dst := build()
	if err := dst.Load(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(dst.Groups(), groups, sameGroup) {
		t.Fatalf("loaded groups %v, want %v", dst.Groups(), groups)
	}
	x2 := slices.Clone(x)
	for range 5 {
		next(g)
		src.Step(x, g)
		dst.Step(x2, g)
	}
	if !sameBits(x, x2) {
		t.Fatalf("after loading: %v, the saver %v", x2, x)
	}

	// Offsets in the saved state: the header, the group count, group "a"'s
	// name, scales, span count and spans.
	groupsAt := 8 + 4 + 1 + len("AdamW") + 24
	aSpans := groupsAt + 4 + 1 + 1 + 16 + 4
	for _, c := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"overlapping spans", withUint64(saved.Bytes(), aSpans+8, 6), `span [5, 8) of group 1 ("b") overlaps [0, 6) of group 0 ("a")`},
		{"span beyond n", withUint64(saved.Bytes(), aSpans+24, 13), "span [8, 13) beyond 12 parameters"},
		{"zero LRScale", withFloat(saved.Bytes(), groupsAt+4+1+1, 0), "learning-rate scale 0"},
		{"negative WeightDecayScale", withFloat(saved.Bytes(), groupsAt+4+1+1+8, -1), "WeightDecayScale = -1"},
		{"too many groups", withUint32(saved.Bytes(), groupsAt, 13), "13 parameter groups for 12 parameters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := build()
			unchanged := snapshot(t, o, nil)
			err := o.Load(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one containing %q", err, c.msg)
			}
			unchanged("failed Load")
		})
	}
}
