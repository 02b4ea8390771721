package verify

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// Layer checks l's derivative interface on a random batch of n samples at
// random parameters drawn from rng:
//
//   - JVP with respect to input and parameters against central
//     differences of Forward;
//   - VJP as the adjoint of JVP, ⟨g, J v⟩ = ⟨Jᵀ g, v⟩, for both;
//   - PerSampleVJP rows summing to the parameter VJP, and each row equal
//     to the VJP of its sample alone;
//   - SecondOrderVJP against central differences of the VJPs with g held
//     fixed, along a random (dx, dθ);
//   - for an nn.Kronecker layer, each per-sample VJP row against
//     Σ_r g_r ā_rᵀ from its Kronecker inputs and gradients.
func Layer(l nn.Layer, n int, rng *rand.Rand, opt *Options) *Report {
	rep := &Report{Subject: fmt.Sprintf("layer %T (%d→%d, %d parameters)", l, l.InSize(), l.OutSize(), l.NumParams())}
	in, out, P := l.InSize(), l.OutSize(), l.NumParams()
	x, dx, g := randMat(n, in, rng), randMat(n, in, rng), randMat(n, out, rng)
	theta, dtheta := randVec(P, rng, 0.5), randVec(P, rng, 1)
	h, tol := opt.step(), opt.tol()

	forward := func(th []float64, xx *mat.Dense) *mat.Dense {
		y := mat.NewDense(n, out, nil)
		l.Forward(y, xx, th)
		return y
	}
	y := forward(theta, x)
	shifted := func(s float64, wantX, wantTheta bool) *mat.Dense {
		xx, th := x, theta
		if wantX {
			xx = mat.NewDense(n, in, nil)
			xx.Add(x, scaled(s, dx))
		}
		if wantTheta {
			th = make([]float64, P)
			floats.AddScaledTo(th, theta, s, dtheta)
		}
		return forward(th, xx)
	}
	diff := func(wantX, wantTheta bool) []float64 {
		p, m := shifted(h, wantX, wantTheta), shifted(-h, wantX, wantTheta)
		var d mat.Dense
		d.Sub(p, m)
		d.Scale(1/(2*h), &d)
		return d.RawMatrix().Data
	}

	jx := mat.NewDense(n, out, nil)
	l.JVP(jx, x, y, theta, dx, nil)
	rep.add("JVP w.r.t. input vs central differences", relErr(jx.RawMatrix().Data, diff(true, false)), tol)
	vx := mat.NewDense(n, in, nil)
	l.VJP(vx, nil, x, y, theta, g)
	rep.add("VJP w.r.t. input is the adjoint of JVP", relScalar(floats.Dot(g.RawMatrix().Data, jx.RawMatrix().Data), floats.Dot(vx.RawMatrix().Data, dx.RawMatrix().Data)), exactTol)

	if P > 0 {
		jt := mat.NewDense(n, out, nil)
		l.JVP(jt, x, y, theta, nil, dtheta)
		rep.add("JVP w.r.t. parameters vs central differences", relErr(jt.RawMatrix().Data, diff(false, true)), tol)
		vt := make([]float64, P)
		l.VJP(nil, vt, x, y, theta, g)
		rep.add("VJP w.r.t. parameters is the adjoint of JVP", relScalar(floats.Dot(g.RawMatrix().Data, jt.RawMatrix().Data), floats.Dot(vt, dtheta)), exactTol)

		per := mat.NewDense(n, P, nil)
		l.PerSampleVJP(per, x, y, theta, g)
		sum := make([]float64, P)
		for i := 0; i < n; i++ {
			floats.Add(sum, per.RawRowView(i))
		}
		rep.add("per-sample VJP rows sum to the VJP", relErr(sum, vt), exactTol)
		worst := 0.0
		for i := 0; i < n; i++ {
			xi := mat.NewDense(1, in, append([]float64(nil), x.RawRowView(i)...))
			gi := mat.NewDense(1, out, append([]float64(nil), g.RawRowView(i)...))
			yi := mat.NewDense(1, out, nil)
			l.Forward(yi, xi, theta)
			one := make([]float64, P)
			l.VJP(nil, one, xi, yi, theta, gi)
			worst = max(worst, relErr(per.RawRowView(i), one))
		}
		rep.add("each per-sample VJP row is its sample's VJP", worst, exactTol)
		if kl, ok := l.(nn.Kronecker); ok {
			rep.add("Kronecker: per-sample gradient is Σ_r g_r ā_rᵀ", kronGrads(kl, x, g, per), exactTol)
		}
	}

	// Second-order term: d/dε of the VJPs along (dx, dθ), g fixed.
	vjpAt := func(s float64) ([]float64, []float64) {
		xx := mat.NewDense(n, in, nil)
		xx.Add(x, scaled(s, dx))
		th := make([]float64, P)
		floats.AddScaledTo(th, theta, s, dtheta)
		yy := forward(th, xx)
		ox := mat.NewDense(n, in, nil)
		ot := make([]float64, P)
		var otp []float64
		if P > 0 {
			otp = ot
		}
		l.VJP(ox, otp, xx, yy, th, g)
		return ox.RawMatrix().Data, ot
	}
	xp, tp := vjpAt(h)
	xm, tm := vjpAt(-h)
	fdx, fdt := make([]float64, len(xp)), make([]float64, P)
	floats.SubTo(fdx, xp, xm)
	floats.Scale(1/(2*h), fdx)
	floats.SubTo(fdt, tp, tm)
	floats.Scale(1/(2*h), fdt)
	rdx := mat.NewDense(n, in, nil)
	var rdt, dth []float64
	if P > 0 {
		rdt, dth = make([]float64, P), dtheta
	}
	l.SecondOrderVJP(rdx, rdt, x, y, theta, g, dx, dth)
	rep.add("second-order term (input) vs differences of the VJP", errOrAbs(rdx.RawMatrix().Data, fdx), tol)
	if P > 0 {
		rep.add("second-order term (parameters) vs differences of the VJP", errOrAbs(rdt, fdt), tol)
	}
	return rep
}

// kronGrads returns the largest relative difference between each row of the
// per-sample VJP and Σ_r g_r ā_rᵀ (row-major p×q) from the layer's
// Kronecker inputs and gradients.
func kronGrads(l nn.Kronecker, x, g, per *mat.Dense) float64 {
	p, q, r := l.KronShape()
	n, _ := x.Dims()
	if p*q != l.NumParams() {
		return math.Inf(1)
	}
	abar, gs := l.KronInputs(nil, x), l.KronGrads(nil, g)
	if ra, ca := abar.Dims(); ra != n*r || ca != q {
		return math.Inf(1)
	}
	if rg, cg := gs.Dims(); rg != n*r || cg != p {
		return math.Inf(1)
	}
	worst := 0.0
	var sum mat.Dense
	for i := 0; i < n; i++ {
		sum.Mul(gs.Slice(i*r, (i+1)*r, 0, p).T(), abar.Slice(i*r, (i+1)*r, 0, q))
		worst = max(worst, relErr(mat.DenseCopyOf(&sum).RawMatrix().Data, per.RawRowView(i)))
	}
	return worst
}

// errOrAbs is the relative error, or the absolute one when the reference
// is zero (a linear layer has no second-order term).
func errOrAbs(got, want []float64) float64 {
	if floats.Norm(want, 2) < 1e-8 {
		return floats.Norm(got, 2)
	}
	return relErr(got, want)
}

func randMat(r, c int, rng *rand.Rand) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := range m.RawMatrix().Data {
		m.RawMatrix().Data[i] = rng.NormFloat64()
	}
	return m
}

func randVec(n int, rng *rand.Rand, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * rng.NormFloat64()
	}
	return v
}

func scaled(s float64, m *mat.Dense) *mat.Dense {
	var out mat.Dense
	out.Scale(s, m)
	return &out
}
