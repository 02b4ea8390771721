package secondorder

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// LinearMethod selects how a damped system (M + λI)x = b is solved.
type LinearMethod int

const (
	// AutoLinear factorises when M is dense (curvature.Dense or a
	// mat.Symmetric) and runs conjugate gradients otherwise.
	AutoLinear     LinearMethod = iota
	CholeskyLinear              // factorise, materialising a matrix-free M within Budget
	CGLinear                    // (preconditioned) conjugate gradients
)

func (m LinearMethod) String() string {
	switch m {
	case AutoLinear:
		return "auto"
	case CholeskyLinear:
		return "cholesky"
	case CGLinear:
		return "cg"
	}
	return fmt.Sprintf("LinearMethod(%d)", int(m))
}

// Linear configures the solution of (M + λI)x = b.
type Linear struct {
	Method        LinearMethod
	Tol           float64 // CG's relative residual ‖(M+λI)x − b‖/‖b‖, in [0, 1); 0: 1e-10
	MaxIterations int     // CG's iterations; 0: max(50, 4n)
	// Preconditioner, if not nil, preconditions CG with (P + λI)⁻¹, λ the
	// system's: any approximation of package approx.
	Preconditioner curvature.DampedSolver
	Budget         int // floats a materialised M may take; 0: curvature.DefaultBudget, < 0: no limit
}

func (l *Linear) validate(prefix string) error {
	if l.Method < AutoLinear || l.Method > CGLinear {
		return badSetting(prefix+"Linear.Method", float64(l.Method), "unknown method")
	}
	if !(l.Tol >= 0 && l.Tol < 1) {
		return badSetting(prefix+"Linear.Tol", l.Tol, "must be in [0, 1)")
	}
	if l.MaxIterations < 0 {
		return badSetting(prefix+"Linear.MaxIterations", float64(l.MaxIterations), "must not be negative")
	}
	return nil
}

func (l *Linear) tol() float64 {
	if l.Tol == 0 {
		return 1e-10
	}
	return l.Tol
}

func cgMaxIter(set, n int) int {
	if set > 0 {
		return set
	}
	return max(50, 4*n)
}

// useCholesky reports whether a system with m is factorised.
func (l *Linear) useCholesky(m curvature.Operator) bool {
	switch l.Method {
	case CholeskyLinear:
		return true
	case CGLinear:
		return false
	}
	_, ok := denseOf(m)
	return ok
}

// denseOf returns the dense matrix behind op when op has one.
func denseOf(op curvature.Operator) (mat.Symmetric, bool) {
	switch o := op.(type) {
	case curvature.Dense:
		return o.Symmetric, o.Symmetric != nil
	case *curvature.Dense:
		if o == nil {
			return nil, false
		}
		return o.Symmetric, o.Symmetric != nil
	case mat.Symmetric:
		return o, true
	}
	return nil, false
}

// asDense returns op's dense matrix, materialising it within budget when it
// is matrix-free; products counts the operator products that took.
func asDense(op curvature.Operator, budget int) (a mat.Symmetric, products int, err error) {
	if a, ok := denseOf(op); ok {
		return a, 0, nil
	}
	s, err := curvature.Materialize(op, budget)
	if err != nil {
		return nil, 0, err
	}
	return s, op.Dim(), nil
}

// linInfo is what one linear solve spent and found.
type linInfo struct {
	products, factorizations, iterations int
	// notPD is set when M + λI was found not positive definite; then
	// hint is a lower bound on −λ_min(M) (from a Rayleigh quotient or the
	// smallest diagonal entry).
	notPD bool
	hint  float64
}

// linearSolver solves (M + λI)x = b and keeps its storage between calls.
type linearSolver struct {
	a    *mat.SymDense
	chol mat.Cholesky
	cg   cg
}

// solve stores (M + λI)⁻¹b in x, by Cholesky or CG as set says. When M + λI
// is found not positive definite it returns info.notPD and no error.
func (s *linearSolver) solve(x []float64, m curvature.Operator, lambda float64, b []float64, set *Linear) (linInfo, error) {
	if set.useCholesky(m) {
		a, products, err := asDense(m, set.Budget)
		if err != nil {
			return linInfo{}, err
		}
		info := s.cholesky(x, a, lambda, b)
		info.products += products
		return info, nil
	}
	return s.solveCG(x, m, lambda, b, set)
}

// cholesky factorises a + λI and solves with it.
func (s *linearSolver) cholesky(x []float64, a mat.Symmetric, lambda float64, b []float64) linInfo {
	n := a.SymmetricDim()
	if s.a == nil {
		s.a = mat.NewSymDense(n, nil)
	} else if s.a.SymmetricDim() != n {
		s.a.Reset()
		s.a.ReuseAsSym(n)
	}
	s.a.CopySym(a)
	minDiag := math.Inf(1)
	for i := 0; i < n; i++ {
		d := s.a.At(i, i)
		minDiag = math.Min(minDiag, d)
		s.a.SetSym(i, i, d+lambda)
	}
	info := linInfo{factorizations: 1}
	if !s.chol.Factorize(s.a) {
		info.notPD = true
		// λ_min(M) ≤ min_i M_ii, and M + λI is not positive definite.
		info.hint = math.Max(lambda, -minDiag)
		return info
	}
	// A Condition error only warns; the solution is checked for finiteness
	// by the callers.
	_ = s.chol.SolveVecTo(mat.NewVecDense(n, x), mat.NewVecDense(n, b))
	return info
}

// solveCG runs (preconditioned) conjugate gradients on (M + λI)x = b from
// x = 0. It stops at relative residual Tol, after MaxIterations, or on a
// direction d with dᵀ(M+λI)d ≤ 0, which proves M + λI is not positive
// definite.
func (s *linearSolver) solveCG(x []float64, m curvature.Operator, lambda float64, b []float64, set *Linear) (linInfo, error) {
	c := &s.cg
	c.reset(m, lambda, set.Preconditioner, lambda)
	var info linInfo
	clear(x)
	copy(c.r, b)
	tol := set.tol() * floats.Norm(b, 2)
	maxIter := cgMaxIter(set.MaxIterations, m.Dim())
	done, err := c.begin()
	for k := 0; !done && err == nil && k < maxIter; k++ {
		dAd := c.product()
		dd := floats.Dot(c.d, c.d)
		if !finite(dAd) || !finite(dd) {
			if dd < 1e200 {
				err = fmt.Errorf("secondorder: %w: curvature product gave %v", curvature.ErrNonFinite, dAd)
				break
			}
			// The iterates diverge: M + λI is singular (or nearly) with b
			// outside its range.
			info.notPD, info.hint = true, lambda
			break
		}
		if dAd <= 0 {
			info.notPD = true
			// The Rayleigh quotient dᵀMd/dᵀd bounds λ_min(M) from above.
			info.hint = lambda - dAd/dd
			break
		}
		info.iterations++
		if c.step(x, c.rz/dAd) <= tol {
			break
		}
		done, err = c.next()
	}
	info.products = c.products
	return info, err
}
