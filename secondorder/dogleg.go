package secondorder

import (
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/vec"
)

// Dogleg solves the trust-region subproblem along the dogleg path from the
// origin to p_U = −(gᵀg/gᵀMg) g and on to the Newton step p_B = −M⁻¹g
// (Nocedal & Wright, §4.1). Where M is not positive definite it follows the
// path of M + λI, λ raised until that is, and returns the better of that
// step and the Cauchy point of M.
type Dogleg struct {
	Linear Linear // how the Newton step is solved

	lin        linearSolver
	pb, mg, mp []float64
	negG, cp   []float64
}

// Validate checks the settings.
func (dl *Dogleg) Validate() error { return dl.Linear.validate("Dogleg.") }

func (dl *Dogleg) wantsDense() (bool, int) {
	return dl.Linear.Method == CholeskyLinear, dl.Linear.Budget
}

// Solve stores the dogleg step in dst.
func (dl *Dogleg) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius, dl)
	if err != nil {
		return StepInfo{}, err
	}
	dl.pb = resizeVec(dl.pb, n)
	dl.mg = resizeVec(dl.mg, n)
	dl.mp = resizeVec(dl.mp, n)
	dl.negG = resizeVec(dl.negG, n)
	dl.cp = resizeVec(dl.cp, n)
	gn, gMg := gradientCurvature(dst, dl.mg, m, g)
	if gn == 0 {
		return StepInfo{}, nil
	}
	info := StepInfo{Products: 1}
	floats.ScaleTo(dl.negG, -1, g)
	lambda := 0.0
	if !(gMg > 0) {
		// M is not positive definite: start from a shift that makes gᵀ(M + λI)g positive.
		lambda = shiftAbove(-gMg / (gn * gn))
		info.NegativeCurvature = true
	}
	for attempt := 0; ; attempt++ {
		li, err := dl.lin.solve(dl.pb, m, lambda, dl.negG, &dl.Linear)
		info.Products += li.products
		info.Factorizations += li.factorizations
		info.Iterations += li.iterations
		if err != nil {
			return info, err
		}
		if !li.notPD && vec.FirstNonFinite(dl.pb) < 0 && floats.Dot(g, dl.pb) < 0 {
			break
		}
		info.NegativeCurvature = true
		next := math.Max(4*lambda, shiftAbove(li.hint))
		if !(next > lambda) || attempt > 200 || !finite(next) {
			// No shift makes the path usable (overflow): the Cauchy point.
			cauchyPoint(dst, g, gn, gMg, radius)
			info.Fallback = true
			return dl.finish(dst, m, g, info)
		}
		lambda = next
	}
	info.Lambda = lambda
	dl.path(dst, g, gn, gMg+lambda*gn*gn, radius, &info)
	if lambda == 0 {
		return dl.finish(dst, m, g, info)
	}
	// Shifted: keep the better of the path's step and M's Cauchy point.
	dec := predicted(dl.mp, m, g, dst)
	ci := cauchyPoint(dl.cp, g, gn, gMg, radius)
	info.Products++
	if ci.Decrease > dec {
		copy(dst, dl.cp)
		info.Norm, info.Boundary, info.Fallback = ci.Norm, ci.Boundary, true
	}
	return dl.finish(dst, m, g, info)
}

// shiftAbove returns a shift just above the bound b on −λ_min(M).
func shiftAbove(b float64) float64 {
	return math.Max(b, 0) + 1e-3*math.Max(1, math.Abs(b))
}

// path stores in dst the point where the dogleg path of the model with
// curvature M̃ (gᵀM̃g = gMg, Newton step dl.pb) leaves the ball, or p_B.
func (dl *Dogleg) path(dst, g []float64, gn, gMg, radius float64, info *StepInfo) {
	nb := floats.Norm(dl.pb, 2)
	if nb <= radius {
		copy(dst, dl.pb)
		info.Norm = nb
		return
	}
	// p_U = −t g with t = gᵀg/gᵀM̃g.
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

// finish sets the decrease of the step in dst, with the unshifted M.
func (dl *Dogleg) finish(dst []float64, m curvature.Operator, g []float64, info StepInfo) (StepInfo, error) {
	info.Decrease = predicted(dl.mp, m, g, dst)
	info.Products++
	return info, checkStep(dst, &info)
}
