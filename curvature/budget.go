package curvature

import (
	"cmp"
	"fmt"
)

// Every allocation whose size follows from the user's network or data is
// checked against a budget in float64 values before it is made. One rule
// holds for every Budget field and argument of curvkit: 0 means
// DefaultBudget, a negative budget means no limit (Unlimited), and a
// positive one is the limit.
const (
	// DefaultBudget is the limit of a budget left at 0: 2³⁰ floats, 8 GiB,
	// a third of the machines curvkit is measured on. A mistyped size (a
	// 784-256-10 network's dense Hessian is 331 GB) is then an error, not
	// a process killed by the operating system.
	DefaultBudget = 1 << 30
	// Unlimited turns the check off.
	Unlimited = -1
)

// BudgetError reports a request that would exceed the caller's memory
// budget. It says what was asked for, how much it would have taken, and
// how to raise the limit.
type BudgetError struct {
	What   string // what was being built, e.g. "hessian"
	Floats int    // float64 values the request needs
	Budget int    // the caller's limit in float64 values
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("curvature: %s needs %d floats (%s), over the budget of %d floats (%s); raise the Budget setting (negative: no limit) if the machine has the memory",
		e.What, e.Floats, SizeOfFloats(e.Floats), e.Budget, SizeOfFloats(e.Budget))
}

// DenseFloats returns the float64 count of a dense n×n matrix, n², the
// memory a dense curvature matrix of n parameters takes (×8 bytes).
func DenseFloats(n int) int { return n * n }

// CheckBudget returns a *BudgetError when a dense n×n matrix would exceed
// budget floats (0: DefaultBudget; negative: no limit).
func CheckBudget(what string, n, budget int) error {
	return CheckFloats(what, DenseFloats(n), budget)
}

// CheckFloats returns a *BudgetError when floats exceeds budget (0:
// DefaultBudget; negative: no limit).
func CheckFloats(what string, floats, budget int) error {
	budget = cmp.Or(budget, DefaultBudget)
	if budget > 0 && floats > budget {
		return &BudgetError{What: what, Floats: floats, Budget: budget}
	}
	return nil
}

// SizeOfFloats formats the memory of n float64 values, 8n bytes, in B,
// KiB, MiB, GiB or TiB, as budget errors and the examples' estimates
// print it.
func SizeOfFloats(n int) string {
	b := 8 * float64(n)
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
