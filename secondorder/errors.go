package secondorder

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/vec"
)

var (
	// ErrNoProgress is returned when a step is too small to change x in
	// floating point, so no further progress is possible.
	ErrNoProgress = errors.New("secondorder: step too small to change x")

	// ErrNotDescent is returned when a computed direction d has gᵀd ≥ 0:
	// it would go uphill.
	ErrNotDescent = errors.New("secondorder: direction is not a descent direction")

	// ErrDampingLimit is returned when the damping λ would exceed its
	// maximum without producing an acceptable step.
	ErrDampingLimit = errors.New("secondorder: damping exceeded its maximum")
)

// SettingError reports a bad setting: which one and why.
type SettingError struct {
	Setting string  // the field, e.g. "TrustRegion.Eta"
	Value   float64 // its value
	Reason  string  // what it must be
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("secondorder: %s = %v: %s", e.Setting, e.Value, e.Reason)
}

func badSetting(setting string, v float64, reason string) error {
	return &SettingError{Setting: setting, Value: v, Reason: reason}
}

// settingCheck returns the check of a field of the settings named owner: a
// *SettingError giving reason unless ok holds and v is not NaN.
func settingCheck(owner string) func(field string, v float64, ok bool, reason string) error {
	return func(field string, v float64, ok bool, reason string) error {
		if !ok || math.IsNaN(v) {
			return badSetting(owner+"."+field, v, reason)
		}
		return nil
	}
}

// dampingRange defaults the Levenberg–Marquardt damping of the settings
// named owner (HessianFreeSettings, KFACSettings): λ to lambda0, its floor
// to min(floor0, λ), its ceiling to 10⁴; and checks floor ≤ λ ≤ ceiling.
func dampingRange(owner string, lambda, floor, ceiling *float64, lambda0, floor0 float64) error {
	*lambda = cmp.Or(*lambda, lambda0)
	*floor = cmp.Or(*floor, math.Min(floor0, *lambda))
	*ceiling = cmp.Or(*ceiling, 1e4)
	if *floor > *ceiling {
		return badSetting(owner+".MinDamping", *floor, "must not exceed MaxDamping")
	}
	if *lambda < *floor || *lambda > *ceiling {
		return badSetting(owner+".Damping", *lambda, "must lie in [MinDamping, MaxDamping]")
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// nonFiniteAt reports a loss or a gradient at the current point that is
// NaN or infinite, naming the value (and the gradient's index), or nil.
func nonFiniteAt(loss float64, grad []float64) error {
	if !finite(loss) {
		return fmt.Errorf("%w: the loss at the current point is %v", curvature.ErrNonFinite, loss)
	}
	if i := vec.FirstNonFinite(grad); i >= 0 {
		return fmt.Errorf("%w: the gradient at the current point has %v at index %d", curvature.ErrNonFinite, grad[i], i)
	}
	return nil
}

func nonFiniteVec(what string, x []float64) error {
	if i := vec.FirstNonFinite(x); i >= 0 {
		return fmt.Errorf("secondorder: %w: %s has %v at index %d", curvature.ErrNonFinite, what, x[i], i)
	}
	return nil
}

// isNil reports whether v is nil or a typed nil (a nil pointer, function,
// map, slice or channel in an interface): a value the caller forgot to
// build, which would otherwise fail as a nil dereference deep inside.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// errNilOperator is the error of a damped solve given no operator.
var errNilOperator = errors.New("secondorder: nil curvature operator")
