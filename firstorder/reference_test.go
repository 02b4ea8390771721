package firstorder

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize/functions"
)

// The reference trajectories in testdata/reference.json come from torch.optim
// (and, for AdaBelief, a torch implementation of adabelief-pytorch 0.2's
// update) run by testdata/gen_reference.py; see that script.

// refTol is the largest relative difference allowed between our trajectories
// and torch's: ‖x − x_torch‖∞ ≤ refTol·‖x_torch‖∞ after every step. The two
// differ by rounding only (torch fuses some multiply-adds, computes powers and
// Rosenbrock's gradient its own way).
const refTol = 1e-12

// lbfgsTol and lbfgsStepTol are refTol for L-BFGS, whose iterations amplify
// rounding: its direction is built from dot products (torch's in BLAS order,
// ours in index order) over all past pairs, and its line search compares
// differences of function values. From a common state one Step, up to 20
// iterations, agrees with torch's to 1.3e-13; run freely for 12 Steps the
// trajectories part by up to 1.4e-7 on Rosenbrock's valley (2e-16 after the
// first steps, growing about tenfold a step), on the same branches: the
// iteration and evaluation counts agree exactly.
const (
	lbfgsTol     = 1e-6
	lbfgsStepTol = 1e-12
)

type reference struct {
	Steps        int         `json:"steps"`
	RosenbrockX0 []float64   `json:"rosenbrock_x0"`
	StreamX0     []float64   `json:"stream_x0"`
	Stream       [][]float64 `json:"stream"`
	Cases        []struct {
		Optimizer string         `json:"optimizer"`
		Settings  map[string]any `json:"settings"`
		Problem   string         `json:"problem"`
		X         [][]float64    `json:"x"`
		Average   [][]float64    `json:"average"` // ASGD's state["ax"]
	} `json:"cases"`
	Schedules []struct {
		Name   string             `json:"name"`
		Kind   string             `json:"kind"`
		Params map[string]float64 `json:"params"`
		Base   float64            `json:"base"`
		LR     []float64          `json:"lr"`
	} `json:"schedules"`
	Clip []struct {
		Grad    []float64 `json:"grad"`
		MaxNorm float64   `json:"max_norm"`
		Norm    float64   `json:"norm"`
		Clipped []float64 `json:"clipped"`
	} `json:"clip"`
	LogisticA [][]float64 `json:"logistic_a"`
	LogisticY []float64   `json:"logistic_y"`
	LBFGS     []lbfgsRef  `json:"lbfgs"`
	Composed  struct {
		LR          float64     `json:"lr"`
		WarmupSteps int         `json:"warmup_steps"`
		WarmupStart float64     `json:"warmup_start"`
		CosineSteps int         `json:"cosine_steps"`
		CosineMin   float64     `json:"cosine_min"`
		MaxNorm     float64     `json:"max_norm"`
		X           [][]float64 `json:"x"`
	} `json:"composed"`
}

// lbfgsRef is one run of torch.optim.LBFGS: after each step(), the
// parameters, the loss step() returned, torch's counters and the rest of its
// state.
type lbfgsRef struct {
	Settings  map[string]any `json:"settings"`
	Problem   string         `json:"problem"`
	X         [][]float64    `json:"x"`
	Loss      []float64      `json:"loss"`
	FuncEvals []int          `json:"func_evals"`
	NIter     []int          `json:"n_iter"`
	State     []struct {
		D        []float64   `json:"d"`
		T        float64     `json:"t"`
		PrevGrad []float64   `json:"prev_grad"`
		S        [][]float64 `json:"s"`
		Y        [][]float64 `json:"y"`
		Rho      []float64   `json:"ro"`
		HDiag    float64     `json:"h_diag"`
	} `json:"state"`
}

var loadReference = sync.OnceValues(func() (*reference, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		return nil, err
	}
	var r reference
	return &r, json.Unmarshal(b, &r)
})

func readReference(t *testing.T) *reference {
	t.Helper()
	r, err := loadReference()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// torchSettings builds our optimizer from torch's keyword arguments as a
// torch user would: from the Default…Settings of the optimizer (the zero
// value for SGD and Adagrad, whose torch defaults are all 0 but for those of
// LR and ε), setting what the keyword arguments set. Absent keys keep our
// defaults, which must then be torch's.
func torchSettings(name string, n int, kw map[string]any) (Optimizer, error) {
	opt, err := torchOptimizer(name, n, kw)
	if err != nil {
		return nil, err
	}
	if gs, ok := kw["param_groups"]; ok {
		var groups []Group
		for _, g := range gs.([]any) {
			g := g.(map[string]any)
			group := Group{LRScale: g["lr_scale"].(float64), WeightDecayScale: g["wd_scale"].(float64)}
			for _, sp := range g["spans"].([]any) {
				sp := sp.([]any)
				group.Spans = append(group.Spans, Span{int(sp[0].(float64)), int(sp[1].(float64))})
			}
			groups = append(groups, group)
		}
		if err := opt.(interface{ SetGroups([]Group) error }).SetGroups(groups); err != nil {
			return nil, err
		}
	}
	return opt, nil
}

// torchOptimizer builds the optimizer of torchSettings, without its groups.
func torchOptimizer(name string, n int, kw map[string]any) (Optimizer, error) {
	build, ok := torchOptimizers[name]
	if !ok {
		return nil, fmt.Errorf("unknown optimizer %q", name)
	}
	return build(n, kw)
}

// adamKeywords are the keyword arguments of the Adam family and the fields
// they set; a pair such as betas sets two.
var adamKeywords = map[string]string{"lr": "LR", "betas": "Beta1,Beta2", "eps": "Eps", "weight_decay": "WeightDecay"}

// torchOptimizers builds each optimizer from its settings as a torch user
// gets them (see torchSettings) and the fields its keyword arguments set.
// adabelief-pytorch 0.2's defaults differ from ours in rectify, and its
// degenerated_to_sgd and weight_decouple are our NoSGDWarmup and
// CoupledWeightDecay negated ("!").
var torchOptimizers = map[string]func(n int, kw map[string]any) (Optimizer, error){
	"SGD":     torch(SGDSettings{}, NewSGD, map[string]string{"lr": "LR", "momentum": "Momentum", "dampening": "Dampening", "weight_decay": "WeightDecay", "nesterov": "Nesterov"}),
	"Adagrad": torch(AdagradSettings{}, NewAdagrad, map[string]string{"lr": "LR", "lr_decay": "LRDecay", "weight_decay": "WeightDecay", "initial_accumulator_value": "InitialAccumulator", "eps": "Eps"}),
	"RMSprop": torch(DefaultRMSpropSettings(), NewRMSprop, map[string]string{"lr": "LR", "alpha": "Alpha", "eps": "Eps", "weight_decay": "WeightDecay", "momentum": "Momentum", "centered": "Centered"}),
	"Adam":    torch(DefaultAdamSettings(), NewAdam, withKeywords(adamKeywords, "amsgrad", "AMSGrad")),
	"AdamW":   torch(DefaultAdamWSettings(), NewAdamW, withKeywords(adamKeywords, "amsgrad", "AMSGrad")),
	"Adamax":  torch(DefaultAdamaxSettings(), NewAdamax, adamKeywords),
	"NAdam":   torch(DefaultNAdamSettings(), NewNAdam, withKeywords(adamKeywords, "momentum_decay", "MomentumDecay")),
	"RAdam":   torch(DefaultRAdamSettings(), NewRAdam, adamKeywords),
	"AdaBelief": torch(rectified(DefaultAdaBeliefSettings()), NewAdaBelief,
		withKeywords(adamKeywords, "fixed_decay", "FixedDecay", "amsgrad", "AMSGrad", "rectify", "Rectify", "degenerated_to_sgd", "!NoSGDWarmup", "weight_decouple", "!CoupledWeightDecay")),
	"Adadelta": torch(DefaultAdadeltaSettings(), NewAdadelta, map[string]string{"lr": "LR", "rho": "Rho", "eps": "Eps", "weight_decay": "WeightDecay"}),
	"Rprop":    torch(DefaultRpropSettings(), NewRprop, map[string]string{"lr": "LR", "etas": "EtaMinus,EtaPlus", "step_sizes": "StepMin,StepMax"}),
	"ASGD":     torch(DefaultASGDSettings(), NewASGD, map[string]string{"lr": "LR", "lambd": "Lambda", "alpha": "Alpha", "t0": "T0", "weight_decay": "WeightDecay"}),
}

// rectified returns s with Rectify set.
func rectified(s AdaBeliefSettings) AdaBeliefSettings {
	s.Rectify = true
	return s
}

// with2 returns fields with the keyword, field pairs kv added.
func withKeywords(fields map[string]string, kv ...string) map[string]string {
	m := maps.Clone(fields)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// torch returns the build of the optimizer that newOpt makes from the
// settings s with each keyword argument written to the fields that fields
// names for it, and maximize to Maximize. A keyword it does not know is an
// error, so that no torch setting goes unread.
func torch[S any, O Optimizer](s S, newOpt func(int, S) (O, error), fields map[string]string) func(int, map[string]any) (Optimizer, error) {
	return func(n int, kw map[string]any) (Optimizer, error) {
		c := s
		v := reflect.ValueOf(&c).Elem()
		for key, val := range kw {
			names, ok := fields[key]
			switch {
			case key == "param_groups":
				continue // torchSettings sets the groups
			case key == "maximize":
				names = "Maximize"
			case !ok:
				return nil, fmt.Errorf("unknown keyword %q", key)
			}
			vals := []any{val}
			if pair, ok := val.([]any); ok {
				vals = pair
			}
			for i, name := range strings.Split(names, ",") {
				switch x := vals[i].(type) {
				case float64:
					v.FieldByName(name).SetFloat(x)
				case bool:
					if neg, ok := strings.CutPrefix(name, "!"); ok {
						name, x = neg, !x
					}
					v.FieldByName(name).SetBool(x)
				default:
					return nil, fmt.Errorf("keyword %q: %v is neither a number nor a boolean", key, x)
				}
			}
		}
		return newOpt(n, c)
	}
}

// relDiff returns ‖x − ref‖∞ / ‖ref‖∞.
func relDiff(x, ref []float64) float64 {
	var d, r float64
	for i := range ref {
		d = max(d, math.Abs(x[i]-ref[i]))
		r = max(r, math.Abs(ref[i]))
	}
	return d / r
}

func TestTorchTrajectories(t *testing.T) {
	ref := readReference(t)
	seen := map[string]bool{}
	for _, c := range ref.Cases {
		name := fmt.Sprintf("%s/%v/%s", c.Optimizer, c.Settings, c.Problem)
		seen[c.Optimizer] = true
		for _, kind := range []string{"param_groups", "maximize"} {
			if _, ok := c.Settings[kind]; ok {
				seen[c.Optimizer+kind] = true
			}
		}
		t.Run(name, func(t *testing.T) {
			if len(c.X) != ref.Steps || ref.Steps < 50 {
				t.Fatalf("reference has %d steps, want %d ≥ 50", len(c.X), ref.Steps)
			}
			var x []float64
			var grad func(step int, dst []float64)
			switch c.Problem {
			case "rosenbrock":
				x = append(x, ref.RosenbrockX0...)
				grad = func(_ int, dst []float64) { functions.ExtendedRosenbrock{}.Grad(dst, x) }
			case "neg-rosenbrock": // maximized
				x = append(x, ref.RosenbrockX0...)
				grad = func(_ int, dst []float64) {
					functions.ExtendedRosenbrock{}.Grad(dst, x)
					floats.Scale(-1, dst)
				}
			case "stream":
				x = append(x, ref.StreamX0...)
				grad = func(step int, dst []float64) { copy(dst, ref.Stream[step]) }
			default:
				t.Fatalf("unknown problem %q", c.Problem)
			}
			opt, err := torchSettings(c.Optimizer, len(x), c.Settings)
			if err != nil {
				t.Fatal(err)
			}
			g := make([]float64, len(x))
			var worst float64
			for step, want := range c.X {
				grad(step, g)
				if err := opt.Step(x, g); err != nil {
					t.Fatalf("step %d: %v", step+1, err)
				}
				d := relDiff(x, want)
				if !(d <= refTol) {
					t.Fatalf("step %d: relative difference %.3g from torch > %g\ngot  %v\nwant %v", step+1, d, refTol, x, want)
				}
				worst = max(worst, d)
				if c.Average != nil {
					avg := slices.Clone(x)
					opt.(*ASGD).AverageTo(avg)
					if d := relDiff(avg, c.Average[step]); !(d <= refTol) {
						t.Fatalf("step %d: average differs from torch's by %.3g relative", step+1, d)
					}
				}
			}
			t.Logf("largest relative difference from torch over %d steps: %.2g", len(c.X), worst)
		})
	}
	for _, name := range []string{"SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "AdaBelief", "Adadelta", "Rprop", "ASGD"} {
		for _, kind := range []string{"", "param_groups", "maximize"} {
			if !seen[name+kind] && (kind != "maximize" || !slices.Contains([]string{"NAdam", "RAdam", "AdaBelief"}, name)) {
				t.Errorf("no reference trajectory for %s %s", name, kind)
			}
		}
	}
}

func TestTorchSchedules(t *testing.T) {
	ref := readReference(t)
	for _, c := range ref.Schedules {
		t.Run(c.Name, func(t *testing.T) {
			p := c.Params
			var s Schedule
			switch c.Kind {
			case "StepDecay":
				s = StepDecay{Every: int(p["every"]), Gamma: p["gamma"]}
			case "Exponential":
				s = Exponential{Gamma: p["gamma"]}
			case "Cosine":
				s = Cosine{Steps: int(p["steps"]), Min: p["min"]}
			case "Warmup":
				s = Warmup{Steps: int(p["steps"]), Start: p["start"]}
			case "Warmup+Cosine":
				s = Warmup{Steps: int(p["steps"]), Start: p["start"], Then: Cosine{Steps: int(p["cosine_steps"])}}
			default:
				t.Fatalf("unknown schedule %q", c.Kind)
			}
			if err := s.(Validator).Validate(); err != nil {
				t.Fatal(err)
			}
			for k, want := range c.LR {
				got := s.LearningRate(k, c.Base)
				if d := math.Abs(got-want) / want; !(d <= refTol) {
					t.Errorf("step %d: learning rate %v, torch %v (relative difference %.3g)", k, got, want, d)
				}
			}
		})
	}
}

func TestTorchClipNorm(t *testing.T) {
	ref := readReference(t)
	for i, c := range ref.Clip {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			g := append([]float64(nil), c.Grad...)
			norm := ClipNorm(g, c.MaxNorm)
			if d := math.Abs(norm-c.Norm) / c.Norm; !(d <= refTol) {
				t.Errorf("norm %v, torch %v", norm, c.Norm)
			}
			if d := relDiff(g, c.Clipped); !(d <= refTol) {
				t.Errorf("clipped gradient differs from torch's by %.3g relative", d)
			}

			// The wrapper clips the same way, into its own buffer.
			opt, err := NewSGD(len(g), SGDSettings{LR: 1})
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewClipped(opt, c.MaxNorm)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float64, len(g))
			g = append(g[:0], c.Grad...)
			if err := w.Step(x, g); err != nil {
				t.Fatal(err)
			}
			for j := range x {
				x[j] = -x[j] // θ = 0 − 1·clipped gradient
			}
			if d := relDiff(x, c.Clipped); !(d <= refTol) {
				t.Errorf("Clipped stepped with a gradient %.3g away from torch's", d)
			}
			if relDiff(g, c.Grad) != 0 {
				t.Error("Clipped modified the caller's gradient")
			}
			if w.Norm() != norm {
				t.Errorf("Clipped.Norm() = %v, want %v", w.Norm(), norm)
			}
		})
	}
}

// TestTorchComposed checks a schedule and clipping wrapped around Adam against
// torch's SequentialLR(LinearLR, CosineAnnealingLR) with clip_grad_norm_.
func TestTorchComposed(t *testing.T) {
	ref := readReference(t)
	c := ref.Composed
	x := append([]float64(nil), ref.RosenbrockX0...)
	adam, err := NewAdam(len(x), adamLR(c.LR))
	if err != nil {
		t.Fatal(err)
	}
	clipped, err := NewClipped(adam, c.MaxNorm)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := NewScheduled(clipped, Warmup{Steps: c.WarmupSteps, Start: c.WarmupStart,
		Then: Cosine{Steps: c.CosineSteps, Min: c.CosineMin}})
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, len(x))
	for step, want := range c.X {
		functions.ExtendedRosenbrock{}.Grad(g, x)
		if err := opt.Step(x, g); err != nil {
			t.Fatal(err)
		}
		if d := relDiff(x, want); !(d <= refTol) {
			t.Fatalf("step %d: relative difference %.3g from torch > %g", step+1, d, refTol)
		}
	}
}
