package secondorder

import (
	"gonum.org/v1/gonum/floats"

	"github.com/curvkit/curvkit/curvature"
)

// Cauchy solves the trust-region subproblem by the Cauchy point, the
// minimiser of the model along −g within the radius (Nocedal & Wright,
// Alg. 4.2):
//
//	p = −τ Δ g/‖g‖,  τ = 1 if gᵀMg ≤ 0, else min(1, ‖g‖³/(Δ gᵀMg)).
type Cauchy struct {
	mg []float64
}

// Solve stores the Cauchy point in dst.
func (c *Cauchy) Solve(dst []float64, m curvature.Operator, g []float64, radius float64) (StepInfo, error) {
	n, err := checkSubproblem(dst, m, g, radius, nil)
	if err != nil {
		return StepInfo{}, err
	}
	c.mg = resizeVec(c.mg, n)
	gn, gMg := gradientCurvature(dst, c.mg, m, g)
	if gn == 0 {
		return StepInfo{}, nil
	}
	info := cauchyPoint(dst, g, gn, gMg, radius)
	info.Products = 1
	return info, checkStep(dst, &info)
}

// gradientCurvature returns ‖g‖ and gᵀMg, leaving Mg in mg. For g = 0 it
// returns 0 for both without a product and zeroes dst: the step from a
// stationary point is 0.
func gradientCurvature(dst, mg []float64, m curvature.Operator, g []float64) (gn, gMg float64) {
	gn = floats.Norm(g, 2)
	if gn == 0 {
		clear(dst)
		return 0, 0
	}
	m.MulVecTo(mg, g)
	return gn, floats.Dot(g, mg)
}

// cauchyPoint stores the Cauchy point given gᵀMg.
func cauchyPoint(dst, g []float64, gn, gMg, radius float64) StepInfo {
	tau := 1.0
	if gMg > 0 {
		// ‖g‖³/(Δ gᵀMg), ordered to avoid overflowing ‖g‖³.
		tau = min(1, (gn/radius)*(gn/gMg)*gn)
	}
	t := tau * radius / gn
	floats.ScaleTo(dst, -t, g)
	return StepInfo{
		Norm:              tau * radius,
		Decrease:          t*gn*gn - 0.5*t*t*gMg,
		Boundary:          tau == 1,
		NegativeCurvature: gMg <= 0,
	}
}
