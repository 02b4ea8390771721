package verify

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/diff/fd"
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
//   - the factor, S Sᵀ = H_z;
//   - H_z symmetric positive semi-definite;
//   - the sampler against the Fisher identity E_{y~p(y|z)}[∇ℓ ∇ℓᵀ] = H_z,
//     for the losses of exponential families in z (all of package nn's):
//     the Monte-Carlo mean of ∇ℓ ∇ℓᵀ over Options.Samples draws is within
//     six standard errors of H_z.
func Loss(loss nn.Loss, outputs, n int, rng *rand.Rand, opt *Options) *Report {
	rep := &Report{Subject: fmt.Sprintf("loss %s with %d outputs", loss.Name(), outputs)}
	C, T := outputs, loss.TargetDim(outputs)
	h, tol := opt.step(), opt.tol()
	set := &fd.Settings{Formula: fd.Central, Step: h}
	var gradErr, hessErr, hvErr, factorErr, psd, fisher float64
	H := mat.NewSymDense(C, nil)
	S := mat.NewDense(C, C, nil)
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

		loss.Hessian(H, z)
		jac := mat.NewDense(C, C, nil)
		fd.Jacobian(jac, grad, z, &fd.JacobianSettings{Formula: fd.Central, Step: h})
		hessErr = math.Max(hessErr, relErr(mat.DenseCopyOf(H).RawMatrix().Data, jac.RawMatrix().Data))

		v := randVec(C, rng, 1)
		hv := mat.NewDense(1, C, nil)
		loss.HessVec(hv, mat.NewDense(1, C, z), mat.NewDense(1, C, v))
		var want mat.VecDense
		want.MulVec(H, mat.NewVecDense(C, v))
		hvErr = math.Max(hvErr, relErr(hv.RawMatrix().Data, want.RawVector().Data))

		loss.Factor(S, z)
		var sst mat.Dense
		sst.Mul(S, S.T())
		factorErr = math.Max(factorErr, relErr(sst.RawMatrix().Data, mat.DenseCopyOf(H).RawMatrix().Data))

		var eig symeig.EigenSym
		if eig.Factorize(H, false) {
			ev := eig.Values(nil)
			psd = math.Max(psd, -ev[0]/math.Max(ev[len(ev)-1], 1e-300))
		} else {
			psd = math.Inf(1)
		}
		fisher = math.Max(fisher, fisherIdentity(loss, z, H, opt.samples(), rng))
	}
	rep.add("gradient vs central differences of the value", gradErr, tol)
	rep.add("output Hessian vs central differences of the gradient", hessErr, tol)
	rep.add("Hessian-vector product = Hessian·v", hvErr, exactTol)
	rep.add("factor S Sᵀ = H_z", factorErr, exactTol)
	rep.add("H_z positive semi-definite (−λ_min/λ_max)", psd, exactTol)
	rep.add("sampler: E[∇ℓ∇ℓᵀ] = H_z (standard errors)", fisher, 6)
	return rep
}

// fisherIdentity returns the largest deviation, in standard errors, of the
// Monte-Carlo mean of ∇ℓ∇ℓᵀ over draws y ~ p(y|z) from H_z.
func fisherIdentity(loss nn.Loss, z []float64, H mat.Symmetric, draws int, rng *rand.Rand) float64 {
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
			d := math.Abs(m - H.At(a, b))
			if se > 0 {
				worst = math.Max(worst, d/se)
			} else if d > 1e-12 {
				worst = math.Inf(1)
			}
		}
	}
	return worst
}
