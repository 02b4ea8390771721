package verify

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/symeig"
)

// Loss checks loss on n random outputs of the given width, with targets
// drawn by its own sampler:
//
//   - Grad against central differences of Value;
//   - Hessian against central differences of Grad, and HessVec against
//     Hessian·v;
//   - the signed factor, S₊S₊ᵀ − S₋S₋ᵀ = H_z with S₋ the last neg columns
//     Factor reports, and H_z with at most neg negative eigenvalues (for a
//     convex loss, neg = 0: positive semi-definite);
//   - the output Fisher F_z = E_{y~p(y|z)}[∇ℓ ∇ℓᵀ]: FisherFactor's S Sᵀ
//     for an nn.FisherLoss (and FisherVec against it), H_z otherwise;
//     computed exactly where the loss says what p(y|z) is — by enumerating
//     the labels of an nn.Classifier (categorical over the C classes when
//     TargetDim is 1, independent Bernoulli labels when it is C), by
//     Gauss–Hermite quadrature for an nn.Regressor's Gaussian (5 nodes a
//     component, exact for polynomial integrands of degree 9 in each, as
//     those of the Gaussian losses are) — and by the sampler, whose
//     Monte-Carlo mean of ∇ℓ ∇ℓᵀ over Options.Samples draws must be within
//     six standard errors of F_z.
func Loss(loss nn.Loss, outputs, n int, rng *rand.Rand, opt *Options) *Report {
	rep := &Report{Subject: fmt.Sprintf("loss %s with %d outputs", loss.Name(), outputs)}
	C, T := outputs, loss.TargetDim(outputs)
	h, tol := opt.step(), opt.tol()
	set := &fd.Settings{Formula: fd.Central, Step: h}
	fl, isFisher := loss.(nn.FisherLoss)
	expect := expectation(loss, C)
	var gradErr, hessErr, hvErr, factorErr, inertia, exact, fisherVecErr, sampled float64
	H := mat.NewSymDense(C, nil)
	S := mat.NewDense(C, C, nil)
	F := mat.NewDense(C, C, nil)
	for i := 0; i < n; i++ {
		z := randVec(C, rng, 1.5)
		y := make([]float64, T)
		loss.Sample(y, z, rng)
		ym := mat.NewDense(1, T, y)
		value := func(zz []float64) float64 { return loss.Value(make([]float64, 1), mat.NewDense(1, C, zz), ym) }
		grad := func(dst, zz []float64) { loss.Grad(mat.NewDense(1, C, dst), mat.NewDense(1, C, zz), ym) }

		g := make([]float64, C)
		grad(g, z)
		gradErr = math.Max(gradErr, relErr(g, fd.Gradient(nil, value, z, set)))

		loss.Hessian(H, z, y)
		Hd := mat.DenseCopyOf(H)
		jac := mat.NewDense(C, C, nil)
		fd.Jacobian(jac, grad, z, &fd.JacobianSettings{Formula: fd.Central, Step: h})
		hessErr = math.Max(hessErr, relErr(Hd.RawMatrix().Data, jac.RawMatrix().Data))

		v := randVec(C, rng, 1)
		hv := mat.NewDense(1, C, nil)
		loss.HessVec(hv, mat.NewDense(1, C, z), ym, mat.NewDense(1, C, v))
		var want mat.VecDense
		want.MulVec(H, mat.NewVecDense(C, v))
		hvErr = math.Max(hvErr, relErr(hv.RawMatrix().Data, want.RawVector().Data))

		neg := loss.Factor(S, z, y)
		factorErr = math.Max(factorErr, relErr(signedGram(S, neg).RawMatrix().Data, Hd.RawMatrix().Data))
		inertia = math.Max(inertia, negativeBeyond(H, neg))

		// The output Fisher the curvature matrices take.
		if isFisher {
			fl.FisherFactor(S, z)
			F.Mul(S, S.T())
			fv := mat.NewDense(1, C, nil)
			fl.FisherVec(fv, mat.NewDense(1, C, z), mat.NewDense(1, C, v))
			want.MulVec(F, mat.NewVecDense(C, v))
			fisherVecErr = math.Max(fisherVecErr, relErr(fv.RawMatrix().Data, want.RawVector().Data))
		} else {
			F.Copy(H)
		}
		if expect != nil {
			exact = math.Max(exact, relErr(outerExpectation(loss, z, expect).RawMatrix().Data, F.RawMatrix().Data))
		}
		sampled = math.Max(sampled, fisherIdentity(loss, z, F, opt.samples(), rng))
	}
	rep.add("gradient vs central differences of the value", gradErr, tol)
	rep.add("output Hessian vs central differences of the gradient", hessErr, tol)
	rep.add("Hessian-vector product = Hessian·v", hvErr, exactTol)
	rep.add("factor S₊S₊ᵀ − S₋S₋ᵀ = H_z", factorErr, exactTol)
	rep.add("H_z has at most neg negative eigenvalues (−λ_{neg+1}/λ_max)", inertia, exactTol)
	what := "H_z"
	if isFisher {
		what = "S Sᵀ of FisherFactor"
		rep.add("FisherVec = F_z·v", fisherVecErr, exactTol)
	}
	if expect != nil {
		rep.add(fmt.Sprintf("output Fisher: E_y[∇ℓ∇ℓᵀ] (exact, %s) = %s", expect.method, what), exact, exactTol)
	}
	rep.add(fmt.Sprintf("sampler: E[∇ℓ∇ℓᵀ] = %s (standard errors)", what), sampled, 6)
	return rep
}

// signedGram returns S₊S₊ᵀ − S₋S₋ᵀ, S₋ the last neg columns of S.
func signedGram(s *mat.Dense, neg int) *mat.Dense {
	r, c := s.Dims()
	var out mat.Dense
	pos := s.Slice(0, r, 0, c-neg)
	out.Mul(pos, pos.T())
	if neg > 0 {
		var m mat.Dense
		minus := s.Slice(0, r, c-neg, c)
		m.Mul(minus, minus.T())
		out.Sub(&out, &m)
	}
	return &out
}

// negativeBeyond returns −λ_{neg+1}/max|λ|, the eigenvalues λ of h in
// increasing order: at most rounding when h has at most neg negative
// eigenvalues.
func negativeBeyond(h mat.Symmetric, neg int) float64 {
	n := h.SymmetricDim()
	if neg >= n {
		return 0
	}
	var eig symeig.EigenSym
	if !eig.Factorize(h, false) {
		return math.Inf(1)
	}
	ev := eig.Values(nil)
	scale := math.Max(math.Max(math.Abs(ev[0]), math.Abs(ev[n-1])), 1e-300)
	return -ev[neg] / scale
}

// dist is p(y|z) as a finite set of targets with weights: the labels with
// their probabilities, or quadrature nodes with their weights.
type dist struct {
	method string
	// points calls f with every target row of p(y|z) and its weight.
	points func(z []float64, f func(y []float64, w float64))
}

// expectation returns p(y|z) as exact points for a loss that says what it
// is: an nn.Classifier's labels, an nn.Regressor's Gaussian by
// Gauss–Hermite quadrature. It returns nil for any other loss, or one with
// too many points (2^C labels or 5^T nodes, over 2¹⁶).
func expectation(loss nn.Loss, C int) *dist {
	T := loss.TargetDim(C)
	const most = 1 << 16
	switch l := loss.(type) {
	case nn.Classifier:
		prob := func(z []float64) []float64 {
			p := mat.NewDense(1, C, nil)
			l.Probabilities(p, mat.NewDense(1, C, z))
			return p.RawRowView(0)
		}
		switch {
		case T == C && C <= 16:
			return &dist{"2^C Bernoulli labels", func(z []float64, f func([]float64, float64)) {
				p := prob(z)
				y := make([]float64, C)
				for bits := 0; bits < 1<<C; bits++ {
					w := 1.0
					for k := range y {
						y[k] = float64(bits >> k & 1)
						if y[k] == 1 {
							w *= p[k]
						} else {
							w *= 1 - p[k]
						}
					}
					f(y, w)
				}
			}}
		case T == 1:
			return &dist{"C labels", func(z []float64, f func([]float64, float64)) {
				for k, pk := range prob(z) {
					f([]float64{float64(k)}, pk)
				}
			}}
		}
	case nn.Regressor:
		const q = 5
		if math.Pow(q, float64(T)) > most {
			return nil
		}
		// E_{ε~N(0,1)}[f(ε)] = Σ_j w_j f(√2 x_j)/√π for the nodes and
		// weights of ∫ e^{−x²} f(x) dx.
		x, w := make([]float64, q), make([]float64, q)
		quad.Hermite{}.FixedLocations(x, w, math.Inf(-1), math.Inf(1))
		return &dist{fmt.Sprintf("Gauss–Hermite quadrature, %d nodes a component", q), func(z []float64, f func([]float64, float64)) {
			zm := mat.NewDense(1, C, z)
			mean, variance := mat.NewDense(1, T, nil), mat.NewDense(1, T, nil)
			l.Predict(mean, zm)
			l.Variance(variance, zm)
			y := make([]float64, T)
			idx := make([]int, T)
			for {
				wt := 1.0
				for d, j := range idx {
					y[d] = mean.At(0, d) + math.Sqrt(2*variance.At(0, d))*x[j]
					wt *= w[j] / math.SqrtPi
				}
				f(y, wt)
				d := 0
				for ; d < T; d++ {
					if idx[d]++; idx[d] < q {
						break
					}
					idx[d] = 0
				}
				if d == T {
					return
				}
			}
		}}
	}
	return nil
}

// outerExpectation returns E_y[∇ℓ(z, y) ∇ℓ(z, y)ᵀ] over the points of p.
func outerExpectation(loss nn.Loss, z []float64, p *dist) *mat.Dense {
	C := len(z)
	out := mat.NewDense(C, C, nil)
	g := mat.NewDense(1, C, nil)
	zm := mat.NewDense(1, C, z)
	p.points(z, func(y []float64, w float64) {
		loss.Grad(g, zm, mat.NewDense(1, len(y), y))
		gr := g.RawRowView(0)
		for a := 0; a < C; a++ {
			for b := 0; b < C; b++ {
				out.Set(a, b, out.At(a, b)+w*gr[a]*gr[b])
			}
		}
	})
	return out
}

// fisherIdentity returns the largest deviation, in standard errors, of the
// Monte-Carlo mean of ∇ℓ∇ℓᵀ over draws y ~ p(y|z) from F.
func fisherIdentity(loss nn.Loss, z []float64, F mat.Matrix, draws int, rng *rand.Rand) float64 {
	C := len(z)
	y := make([]float64, loss.TargetDim(C))
	g := mat.NewDense(1, C, nil)
	zm := mat.NewDense(1, C, z)
	mean := make([]float64, C*C)
	sq := make([]float64, C*C)
	for range draws {
		loss.Sample(y, z, rng)
		loss.Grad(g, zm, mat.NewDense(1, len(y), y))
		gr := g.RawRowView(0)
		for a := 0; a < C; a++ {
			for b := 0; b < C; b++ {
				p := gr[a] * gr[b]
				mean[a*C+b] += p
				sq[a*C+b] += p * p
			}
		}
	}
	worst := 0.0
	for a := 0; a < C; a++ {
		for b := 0; b < C; b++ {
			m := mean[a*C+b] / float64(draws)
			v := sq[a*C+b]/float64(draws) - m*m
			se := math.Sqrt(math.Max(v, 0) / float64(draws))
			d := math.Abs(m - F.At(a, b))
			if se > 0 {
				worst = math.Max(worst, d/se)
			} else if d > 1e-12 {
				worst = math.Inf(1)
			}
		}
	}
	return worst
}
