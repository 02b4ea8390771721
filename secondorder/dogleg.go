package secondorder

import (
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// Dogleg solves the trust-region subproblem along the dogleg path from the
// origin to the unconstrained steepest-descent minimiser
// p_U = −(gᵀg/gᵀMg) g and on to the Newton step p_B = −M⁻¹g (Nocedal &
// Wright, §4.1). The Newton step comes from a Cholesky factorisation or
// conjugate gradients as Linear says. The path needs M positive definite:
// when it is not (gᵀMg ≤ 0, a failed factorisation, or CG meeting negative
// curvature) Dogleg returns the Cauchy point and sets Fallback.
type Dogleg struct {
	// Linear configures the Newton solve M p_B = −g.
	Linear Linear

	lin        linearSolver
	pb, mg, mp []float64
	negG       []float64
}

// Validate checks the settings.
func (dl *Dogleg) Validate() error { return dl.Linear.validate("Dogleg.") }

func (dl *Dogleg) wantsDense() (bool, int) {
	return dl.Linear.Method == CholeskyLinear, dl.Linear.Budget
}

// Solve stores the dogleg step in dst.
func (dl *Dogleg) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius)
	if err != nil {
		return StepInfo{}, err
	}
	if err := dl.Validate(); err != nil {
		return StepInfo{}, err
	}
	dl.pb = resizeVec(dl.pb, n)
	dl.mg = resizeVec(dl.mg, n)
	dl.mp = resizeVec(dl.mp, n)
	dl.negG = resizeVec(dl.negG, n)
	gn := floats.Norm(g, 2)
	if gn == 0 {
		clear(dst)
		return StepInfo{}, nil
	}
	m.MulVecTo(dl.mg, g)
	gMg := floats.Dot(g, dl.mg)
	info := StepInfo{Products: 1}
	fallback := func() (StepInfo, error) {
		ci := cauchyPoint(dst, g, gn, gMg, radius)
		ci.Products, ci.Factorizations, ci.Iterations = info.Products, info.Factorizations, info.Iterations
		ci.NegativeCurvature, ci.Fallback = true, true
		return ci, checkStep(dst, &ci)
	}
	if !(gMg > 0) {
		return fallback()
	}
	floats.ScaleTo(dl.negG, -1, g)
	li, err := dl.lin.solve(dl.pb, m, 0, dl.negG, &dl.Linear)
	info.Products += li.products
	info.Factorizations += li.factorizations
	info.Iterations += li.iterations
	if err != nil {
		return info, err
	}
	if li.notPD || firstNonFinite(dl.pb) >= 0 || !(floats.Dot(g, dl.pb) < 0) {
		return fallback()
	}
	switch nb := floats.Norm(dl.pb, 2); {
	case nb <= radius:
		copy(dst, dl.pb)
		info.Norm = nb
	default:
		// p_U = −t g with t = gᵀg/gᵀMg.
		t := (gn / gMg) * gn
		if t*gn >= radius {
			floats.ScaleTo(dst, -radius/gn, g)
		} else {
			// p_U + s(p_B − p_U), s ∈ [0, 1], on the boundary.
			floats.ScaleTo(dst, -t, g)      // p_U
			floats.SubTo(dl.mp, dl.pb, dst) // p_B − p_U
			pp := t * t * gn * gn           // ‖p_U‖²
			pd := floats.Dot(dst, dl.mp)    // p_Uᵀ(p_B − p_U)
			dd := floats.Dot(dl.mp, dl.mp)  // ‖p_B − p_U‖²
			_, s := boundaryRoots(pp, pd, dd, radius)
			floats.AddScaled(dst, math.Min(s, 1), dl.mp)
		}
		info.Norm = radius
		info.Boundary = true
	}
	info.Decrease = predicted(dl.mp, m, g, dst)
	info.Products++
	return info, checkStep(dst, &info)
}
