package firstorder

import (
	"fmt"
	"io"
	"math"
	"reflect"

	"github.com/curvkit/curvkit/internal/numerr"
	"github.com/curvkit/curvkit/internal/vec"
)

// Optimizer is the interface shared by every optimizer of the package and by
// the wrappers that add a learning-rate schedule or gradient clipping, so a
// training loop switches optimizer by changing the line that builds it.
type Optimizer interface {
	// Step updates the parameters x in place from the gradient grad of the
	// loss at x. It returns an error wrapping ErrNonFinite if grad holds a
	// NaN or an infinity, and then leaves x and the optimizer's state
	// unchanged. Step panics if len(x) or len(grad) differs from Len: the
	// caller built both slices, so a mismatch is a programming error. Step
	// does not allocate.
	Step(x, grad []float64) error

	// Reset returns the optimizer to the state it was built in: step count
	// zero, moment buffers at their initial values, learning rate from the
	// settings. Parameter groups (SetGroups) stay.
	Reset()

	// Len returns the number of parameters the optimizer was built for.
	Len() int

	// Steps returns the number of successful steps taken since the
	// optimizer was built, reset or loaded.
	Steps() int

	// LearningRate returns the learning rate the next step uses.
	LearningRate() float64

	// SetLearningRate changes the learning rate of the following steps, as
	// writing param_groups[i]["lr"] does in torch. It returns an error, and
	// changes nothing, if lr is negative, NaN or infinite.
	SetLearningRate(lr float64) error

	// Save writes the optimizer's state (step count, learning rate,
	// parameter groups and every moment buffer) to w in the format
	// documented in the package overview.
	Save(w io.Writer) error

	// Load replaces the optimizer's state, its parameter groups included,
	// by one written by Save from an optimizer of the same kind, variant
	// and length. On error the state is unchanged.
	Load(r io.Reader) error
}

// ErrNonFinite is wrapped by the errors Step returns when the gradient holds
// a NaN or an infinity. It is the same value as curvature.ErrNonFinite, so
// one errors.Is test covers every package.
var ErrNonFinite = numerr.NonFinite

// core is what every optimizer has, LBFGS included: its kind, length, step
// count and learning rate.
type core struct {
	kind  string  // name written in saved state; includes the variant
	n     int     // number of parameters
	steps int     // successful steps since build, Reset or Load
	lr    float64 // learning rate of the next step
	lr0   float64 // learning rate from the settings, restored by Reset
}

// state is what every Optimizer of the package has: its core, and the moment
// buffers, scalars and parameter groups that Save and Load move. Optimizers
// embed it and add their settings and Step.
type state struct {
	core
	bufs     [][]float64 // moment buffers, in the documented order
	bufKinds []bufKind   // what each buffer holds, for Load's checks
	scalars  []float64   // scalar state such as NAdam's μ product, in [0, 1]
	groups   []Group     // as SetGroups stored them; nil for one group of all
	runs     []run       // the groups' ranges in order, which Step walks
}

// bufKind says what a moment buffer holds, which Load checks.
type bufKind bool

const (
	signed bufKind = false // a first moment or momentum: any finite value
	square bufKind = true  // a sum, average or maximum of squares: ≥ 0, or its root is NaN
)

// newState checks n and lr and allocates one zeroed buffer of length n per
// entry of kinds.
func newState(kind string, n int, lr float64, nscalars int, kinds ...bufKind) (state, error) {
	if n < 1 {
		return state{}, fmt.Errorf("firstorder: %s: number of parameters is %d, want at least 1", kind, n)
	}
	if err := checkLR(kind, lr); err != nil {
		return state{}, err
	}
	s := state{core: core{kind: kind, n: n, lr: lr, lr0: lr}, bufs: make([][]float64, len(kinds)), bufKinds: kinds, scalars: make([]float64, nscalars), runs: whole(n)}
	for i := range s.bufs {
		s.bufs[i] = make([]float64, n)
	}
	return s, nil
}

// Len returns the number of parameters.
func (s *core) Len() int { return s.n }

// Steps returns the number of steps taken since built, Reset or Load.
func (s *core) Steps() int { return s.steps }

// LearningRate returns the learning rate of the next step.
func (s *core) LearningRate() float64 { return s.lr }

// SetLearningRate sets the learning rate of the following steps.
func (s *core) SetLearningRate(lr float64) error {
	if err := checkLR(s.kind, lr); err != nil {
		return err
	}
	s.lr = lr
	return nil
}

// Reset returns the optimizer to its initial state: step count and buffers
// zero, learning rate from the settings.
func (s *state) Reset() {
	// Optimizers whose initial state is not zero (Adagrad, NAdam) define
	// their own Reset, which calls this one first.
	s.steps = 0
	s.lr = s.lr0
	for _, b := range s.bufs {
		clear(b)
	}
	clear(s.scalars)
}

// check panics if x or grad has the wrong length and reports whether grad
// is finite, so that Step may proceed.
func (s *state) check(x, grad []float64) error {
	checkLen(s.kind, s.n, x, grad)
	return checkFinite(s.kind, grad)
}

// begin checks x and grad and counts the step an update is about to take.
func (s *state) begin(x, grad []float64) error {
	if err := s.check(x, grad); err != nil {
		return err
	}
	s.steps++
	return nil
}

// checkLen panics unless x and grad both have length n.
func checkLen(kind string, n int, x, grad []float64) {
	if len(x) != n || len(grad) != n {
		panic(fmt.Sprintf("firstorder: %s: built for %d parameters, len(x) = %d, len(grad) = %d", kind, n, len(x), len(grad)))
	}
}

// checkFinite returns an error naming the first NaN or infinity in grad.
func checkFinite(kind string, grad []float64) error {
	i := vec.FirstNonFinite(grad)
	if i < 0 {
		return nil
	}
	return fmt.Errorf("firstorder: %s: grad[%d] = %v: %w", kind, i, grad[i], ErrNonFinite)
}

func checkLR(kind string, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return fmt.Errorf("firstorder: %s: learning rate %v is not a finite number ≥ 0", kind, lr)
	}
	return nil
}

// checkBeta reports a decay rate outside [0, 1).
func checkBeta(kind, field string, b float64) error {
	if !(b >= 0 && b < 1) {
		return fmt.Errorf("firstorder: %s: %s = %v is outside [0, 1)", kind, field, b)
	}
	return nil
}

// checkUnit reports a rate outside [0, 1].
func checkUnit(kind, field string, v float64) error {
	if !(v >= 0 && v <= 1) {
		return fmt.Errorf("firstorder: %s: %s = %v is outside [0, 1]", kind, field, v)
	}
	return nil
}

// isNil reports whether v is nil or holds a nil pointer, such as the *Adam
// that a failed NewAdam returns.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// sign returns the factor of the gradient: −1 to maximize the objective, as
// torch's maximize flag negates the gradient before anything else, 1 to
// minimize it. Multiplying by ±1 is exact, so −1·g is torch's −g bit for bit.
func sign(maximize bool) float64 {
	if maximize {
		return -1
	}
	return 1
}

// penalized returns the gradient entry an update takes: g times the sign
// sg (see sign), plus the L2 penalty wd·x where wd is not 0.
func penalized(g, sg, wd, x float64) float64 {
	g *= sg
	if wd != 0 {
		g += float64(wd * x)
	}
	return g
}

// ema returns a·b + c·g, one step of a moving average a with decay b and
// weight c, each product rounded (no fused multiply-add), as torch's
// mul_ then add_.
func ema(a, b, c, g float64) float64 {
	return float64(a*b) + float64(c*g)
}

// emaSq returns a·b + (c·g)·g, one step of a moving average of g², rounded
// as torch's mul_ then addcmul_.
func emaSq(a, b, c, g float64) float64 {
	return float64(a*b) + float64(float64(c*g)*g)
}

// withDefault returns def if v is 0 and v otherwise. It is the rule of the
// settings fields for which 0 is not a meaningful value (learning rates, ε);
// where 0 is meaningful (decay rates, momentum, weight decay) 0 means 0.
func withDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// checkEps reports an ε that is not positive and finite. The updates divide
// by √v + ε with v ≥ 0, so ε > 0 is what keeps a zero gradient entry from
// giving 0/0.
func checkEps(kind string, eps float64) error {
	if !(eps > 0) || math.IsInf(eps, 1) {
		return fmt.Errorf("firstorder: %s: Eps = %v is not a finite number > 0", kind, eps)
	}
	return nil
}

// checkNonNeg reports a value that is negative, NaN or infinite.
func checkNonNeg(kind, field string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 1) {
		return fmt.Errorf("firstorder: %s: %s = %v is not a finite number ≥ 0", kind, field, v)
	}
	return nil
}
