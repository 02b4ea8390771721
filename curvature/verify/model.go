package verify

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/symeig"
)

// Model checks a model on a batch at θ, with the dense matrices of package
// curvature (so keep P small: the checks form P×P matrices). A batch with
// sample weights is checked as the weighted means it defines.
//
//   - the gradient against central differences of the loss, and the
//     Hessian-vector product against central differences of the gradient;
//   - the Fisher through the loss's sampler: for random v, the
//     Monte-Carlo mean of Σ_i w_i (g̃_iᵀv)²/Σ_i w_i over sampled labels is
//     within six standard errors of vᵀFv (F = G for losses that are not an
//     nn.FisherLoss);
//   - the Fisher equals V Vᵀ for the factor V of Model.GGNFactor;
//   - EF − ḡḡᵀ = C;
//   - symmetry of every matrix, and positive semi-definiteness of Fisher,
//     empirical Fisher and gradient covariance, and of the GGN where the
//     output Hessian factors of the batch have no negative columns;
//   - for every nn.Kronecker layer with one position, on one sample,
//     kron(G, A) from the backpropagated columns of the output-Hessian
//     factor (its negative columns subtracted) equals the GGN block: the
//     Kronecker structure K-FAC relies on.
func Model(m *curvature.Model, theta []float64, b curvature.Batch, rng *rand.Rand, opt *Options) (*Report, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	P := len(theta)
	rep := &Report{Subject: fmt.Sprintf("model with %d parameters on %d samples", P, b.Len())}
	h, tol := opt.step(), opt.tol()
	obj, err := m.Objective(b)
	if err != nil {
		return nil, err
	}

	g := make([]float64, P)
	obj.Grad(g, theta)
	rep.add("gradient vs central differences of the loss", relErr(g, fd.Gradient(nil, obj.Func, theta, &fd.Settings{Formula: fd.Central, Step: h})), tol)

	v := randVec(P, rng, 1)
	hv := make([]float64, P)
	obj.HessVec(hv, theta, v)
	tp, tm := make([]float64, P), make([]float64, P)
	floats.AddScaledTo(tp, theta, h, v)
	floats.AddScaledTo(tm, theta, -h, v)
	gp, gm := make([]float64, P), make([]float64, P)
	obj.Grad(gp, tp)
	obj.Grad(gm, tm)
	floats.Sub(gp, gm)
	floats.Scale(1/(2*h), gp)
	rep.add("Hessian-vector product vs central differences of the gradient", relErr(hv, gp), tol)

	dense := map[curvature.Kind]*mat.SymDense{}
	for _, k := range []curvature.Kind{curvature.Hessian, curvature.GGN, curvature.Fisher, curvature.EmpiricalFisher, curvature.GradientCovariance} {
		d, err := m.Dense(k, theta, b, nil)
		if err != nil {
			return nil, err
		}
		dense[k] = d
	}
	rep.add("Fisher through sampled labels (standard errors)", sampledFisher(m, theta, b, dense[curvature.Fisher], opt.samples(), rng), 6)
	V, err := m.GGNFactor(curvature.Fisher, theta, b, nil)
	if err != nil {
		return nil, err
	}
	var vvt mat.Dense
	vvt.Mul(V, V.T())
	rep.add("Fisher = V Vᵀ of its factor", relErr(vvt.RawMatrix().Data, mat.DenseCopyOf(dense[curvature.Fisher]).RawMatrix().Data), exactTol)

	var c mat.SymDense
	c.SymRankOne(dense[curvature.EmpiricalFisher], -1, mat.NewVecDense(P, g))
	rep.add("EF − ḡḡᵀ = C", relErr(mat.DenseCopyOf(&c).RawMatrix().Data, mat.DenseCopyOf(dense[curvature.GradientCovariance]).RawMatrix().Data), 1e-8)

	for _, k := range []curvature.Kind{curvature.Hessian, curvature.GGN, curvature.Fisher, curvature.EmpiricalFisher, curvature.GradientCovariance} {
		op, err := m.Operator(k, theta, b, nil)
		if err != nil {
			return nil, err
		}
		rep.add(fmt.Sprintf("%v products symmetric, uᵀ(Mv) = vᵀ(Mu)", k), symmetry(op, rng), exactTol)
		if k != curvature.Hessian && (k != curvature.GGN || convex(m, theta, b)) {
			rep.add(fmt.Sprintf("%v positive semi-definite (−λ_min/λ_max)", k), negativeEigen(dense[k]), 1e-10)
		}
	}

	one := curvature.Batch{X: rowCopy(b.X, 0), Y: rowCopy(b.Y, 0)} // unweighted
	kf, err := kroneckerOnOneSample(m, theta, one)
	if err != nil {
		return nil, err
	}
	rep.add("K-FAC factors exact on one sample (every one-position Kronecker layer)", kf, exactTol)
	return rep, nil
}

// convex reports whether the output Hessian factor of every sample of the
// batch has no negative column, so that the GGN is positive semi-definite.
func convex(m *curvature.Model, theta []float64, b curvature.Batch) bool {
	z := nn.NewTape(m.Net, m.Loss).Forward(theta, b.X)
	n, C := z.Dims()
	S := mat.NewDense(C, C, nil)
	for i := 0; i < n; i++ {
		if m.Loss.Factor(S, z.RawRowView(i), b.Y.RawRowView(i)) > 0 {
			return false
		}
	}
	return true
}

// sampledFisher returns the largest deviation, in standard errors, of the
// Monte-Carlo estimate of vᵀFv from the Fisher's over three random
// directions.
func sampledFisher(m *curvature.Model, theta []float64, b curvature.Batch, fisher mat.Symmetric, draws int, rng *rand.Rand) float64 {
	t := nn.NewTape(m.Net, m.Loss)
	z := t.Forward(theta, b.X)
	n, C := z.Dims()
	w := b.W
	if w == nil {
		w = make([]float64, n)
		floats.AddConst(1, w)
	}
	wsum := floats.Sum(w)
	P := len(theta)
	T := m.Loss.TargetDim(C)
	jv := mat.NewDense(n, C, nil)
	y := mat.NewDense(1, T, nil)
	gz := mat.NewDense(1, C, nil)
	perSample := max(1, draws/n)
	worst := 0.0
	for range 3 {
		v := randVec(P, rng, 1)
		t.JVP(jv, v)
		want := mat.Inner(mat.NewVecDense(P, v), fisher, mat.NewVecDense(P, v))
		// vᵀFv = Σ_i w_i E_y[(∇_zℓ_iᵀ J_i v)²]/Σ_i w_i; one sample of the
		// mean over i per draw, so the draws are independent and
		// identically distributed.
		var sum, sum2 float64
		for range perSample {
			s := 0.0
			for i := 0; i < n; i++ {
				m.Loss.Sample(y.RawRowView(0), z.RawRowView(i), rng)
				m.Loss.Grad(gz, mat.NewDense(1, C, z.RawRowView(i)), y)
				d := floats.Dot(gz.RawRowView(0), jv.RawRowView(i))
				s += w[i] * d * d
			}
			s /= wsum
			sum += s
			sum2 += s * s
		}
		k := float64(perSample)
		mean := sum / k
		se := math.Sqrt(math.Max(sum2/k-mean*mean, 0) / k)
		if se == 0 {
			if math.Abs(mean-want) > 1e-12*math.Abs(want) {
				return math.Inf(1)
			}
			continue
		}
		worst = math.Max(worst, math.Abs(mean-want)/se)
	}
	return worst
}

// kroneckerOnOneSample returns the largest relative difference between
// each one-position Kronecker layer's GGN block on a one-sample batch and
// kron(G, A), with A = āāᵀ and G = Σ_c ±b_c b_cᵀ from the backpropagated
// columns of the output-Hessian factor, the last neg with a minus sign. Layers with several positions
// (weight sharing) are skipped: K-FAC is not exact for them even on one
// sample.
func kroneckerOnOneSample(m *curvature.Model, theta []float64, one curvature.Batch) (float64, error) {
	kron := map[int]nn.Kronecker{}
	for k, l := range m.Net.Layers {
		if kl, ok := l.(nn.Kronecker); ok {
			if _, _, r := kl.KronShape(); r == 1 {
				kron[k] = kl
			}
		}
	}
	t := nn.NewTape(m.Net, m.Loss)
	z := t.Forward(theta, one.X)
	C := m.Net.OutSize()
	S := mat.NewDense(C, C, nil)
	neg := m.Loss.Factor(S, z.RawRowView(0), one.Y.RawRowView(0))
	G := map[int]*mat.Dense{}
	for c := 0; c < C; c++ {
		sign := 1.0
		if c >= C-neg {
			sign = -1
		}
		u := mat.NewDense(1, C, mat.Col(nil, c, S))
		t.BackpropOutput(u, func(k int, gk *mat.Dense) {
			kl, ok := kron[k]
			if !ok {
				return
			}
			d := kl.KronGrads(nil, gk)
			if G[k] == nil {
				_, p := d.Dims()
				G[k] = mat.NewDense(p, p, nil)
			}
			var o mat.Dense
			o.Mul(d.T(), d)
			o.Scale(sign, &o)
			G[k].Add(G[k], &o)
		})
	}
	worst := 0.0
	block := 0
	for k, l := range m.Net.Layers {
		if l.NumParams() == 0 {
			continue
		}
		if kl, ok := kron[k]; ok {
			abar := kl.KronInputs(nil, t.Input(k))
			var A, kr mat.Dense
			A.Mul(abar.T(), abar)
			kr.Kronecker(G[k], &A)
			blk, err := m.Block(curvature.GGN, block, theta, one, nil)
			if err != nil {
				return 0, err
			}
			worst = math.Max(worst, relErr(kr.RawMatrix().Data, mat.DenseCopyOf(blk).RawMatrix().Data))
		}
		block++
	}
	return worst, nil
}

// symmetry returns |uᵀ(Mv) − vᵀ(Mu)| relative to ‖u‖‖Mv‖ + ‖v‖‖Mu‖ for
// random u, v: matrix-free products of a symmetric matrix must satisfy it.
func symmetry(op curvature.Operator, rng *rand.Rand) float64 {
	n := op.Dim()
	u, v := randVec(n, rng, 1), randVec(n, rng, 1)
	mu, mv := make([]float64, n), make([]float64, n)
	op.MulVecTo(mu, u)
	op.MulVecTo(mv, v)
	scale := floats.Norm(u, 2)*floats.Norm(mv, 2) + floats.Norm(v, 2)*floats.Norm(mu, 2)
	return math.Abs(floats.Dot(u, mv)-floats.Dot(v, mu)) / math.Max(scale, 1e-300)
}

// negativeEigen returns −λ_min/λ_max (≤ 0 for a PSD matrix).
func negativeEigen(s mat.Symmetric) float64 {
	var eig symeig.EigenSym
	if !eig.Factorize(s, false) {
		return math.Inf(1)
	}
	ev := eig.Values(nil)
	return -ev[0] / math.Max(ev[len(ev)-1], 1e-300)
}

func rowCopy(m *mat.Dense, i int) *mat.Dense {
	_, c := m.Dims()
	return mat.NewDense(1, c, append([]float64(nil), m.RawRowView(i)...))
}
