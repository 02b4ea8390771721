package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// GaussianNLL is the negative log-likelihood of a Gaussian with a learned
// diagonal variance (heteroscedastic regression, KFAC-JAX's mean-and-variance
// loss): the network's C = 2D outputs are z = (μ, s), the D means followed by
// the D log-variances s = log σ² (unconstrained), and for a target y ∈ R^D
//
//	ℓ(z, y) = ½ Σ_d (s_d + (y_d − μ_d)² e^{−s_d}),
//
// the negative log-density of y ~ N(μ, diag(e^s)) without the constant
// (D/2) log 2π. It is PyTorch's GaussianNLLLoss(full=False) with var = e^s,
// summed over the D outputs as MSE is (PyTorch's mean reduction also divides
// by D, and it clamps var below at eps = 1e-6, which e^s never meets in
// practice).
//
// With r = y − μ, each pair (μ_d, s_d) has
//
//	∇ℓ = (−r e^{−s}, ½(1 − r² e^{−s})),   H = e^{−s} [1 r; r r²/2],
//
// an indefinite block (determinant −r² e^{−2s}/2) whose factor has one
// positive column e^{−s/2}(1, r) and one negative column
// (0, |r| e^{−s/2}/√2): Factor returns neg = D. The output Fisher is
// F_z = diag(e^{−s}, ½) (E[r²] = e^s, E[r⁴] = 3e^{2s}), positive definite, so
// the loss is a FisherLoss; the GGN is indefinite where the Fisher is not.
type GaussianNLL struct{}

var (
	_ FisherLoss = GaussianNLL{}
	_ Regressor  = GaussianNLL{}
)

func (GaussianNLL) Name() string { return "gaussian_nll" }

// TargetDim returns D = C/2.
func (GaussianNLL) TargetDim(outputs int) int { return outputs / 2 }

// CheckTargets reports an odd number of outputs, besides targets of the
// wrong width or not finite.
func (GaussianNLL) CheckTargets(y *mat.Dense, outputs int) error {
	if outputs < 2 || outputs%2 != 0 {
		return fmt.Errorf("nn: the Gaussian negative log-likelihood needs an even number of outputs (means then log-variances), got %d", outputs)
	}
	return checkTargetShape(y, outputs/2)
}

// halves returns D for an output row of c entries, and panics for an odd c.
func halves(c int) int {
	if c%2 != 0 {
		panic(fmt.Sprintf("nn: gaussian_nll on %d outputs; it needs an even number", c))
	}
	return c / 2
}

func (GaussianNLL) Value(dst []float64, z, y *mat.Dense) float64 {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	D := halves(c)
	total := 0.0
	for i := 0; i < n; i++ {
		mu, s, yi := zd[i*zs:i*zs+D], zd[i*zs+D:i*zs+c], yd[i*ys:i*ys+D]
		v := 0.0
		for d, sd := range s {
			r := yi[d] - mu[d]
			v += sd + r*r*math.Exp(-sd)
		}
		dst[i] = 0.5 * v
		total += dst[i]
	}
	return total
}

func (GaussianNLL) Grad(dst, z, y *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	_, _, ds, dd := rowsOf(dst)
	D := halves(c)
	for i := 0; i < n; i++ {
		mu, s, yi := zd[i*zs:i*zs+D], zd[i*zs+D:i*zs+c], yd[i*ys:i*ys+D]
		out := dd[i*ds : i*ds+c]
		for d, sd := range s {
			r, e := yi[d]-mu[d], math.Exp(-sd)
			out[d] = -r * e
			out[D+d] = 0.5 * (1 - r*r*e)
		}
	}
}

func (GaussianNLL) HessVec(dst, z, y, v *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	_, _, vs, vd := rowsOf(v)
	_, _, ds, dd := rowsOf(dst)
	D := halves(c)
	for i := 0; i < n; i++ {
		mu, s, yi := zd[i*zs:i*zs+D], zd[i*zs+D:i*zs+c], yd[i*ys:i*ys+D]
		vi, out := vd[i*vs:i*vs+c], dd[i*ds:i*ds+c]
		for d, sd := range s {
			r, e := yi[d]-mu[d], math.Exp(-sd)
			vm, vs := vi[d], vi[D+d]
			out[d] = e * (vm + r*vs)
			out[D+d] = e * r * (vm + 0.5*r*vs)
		}
	}
}

func (GaussianNLL) Hessian(dst *mat.SymDense, z, y []float64) {
	c := len(z)
	D := halves(c)
	raw := dst.RawSymmetric()
	for i := 0; i < c; i++ {
		clear(raw.Data[i*raw.Stride+i : i*raw.Stride+c])
	}
	for d := 0; d < D; d++ {
		r, e := y[d]-z[d], math.Exp(-z[D+d])
		raw.Data[d*raw.Stride+d] = e
		raw.Data[d*raw.Stride+D+d] = r * e
		raw.Data[(D+d)*raw.Stride+D+d] = 0.5 * r * r * e
	}
}

// Factor stores, for each pair d, the positive column d, e^{−s/2}(1, r) in
// rows (d, D+d), and the negative column D+d, |r| e^{−s/2}/√2 in row D+d,
// and returns neg = D.
func (GaussianNLL) Factor(dst *mat.Dense, z, y []float64) int {
	c := len(z)
	D := halves(c)
	dst.Zero()
	for d := 0; d < D; d++ {
		r, h := y[d]-z[d], math.Exp(-0.5*z[D+d])
		dst.Set(d, d, h)
		dst.Set(D+d, d, r*h)
		dst.Set(D+d, D+d, math.Abs(r)*h/math.Sqrt2)
	}
	return D
}

// FisherFactor stores diag(e^{−s/2}, 1/√2).
func (GaussianNLL) FisherFactor(dst *mat.Dense, z []float64) {
	c := len(z)
	D := halves(c)
	dst.Zero()
	for d := 0; d < D; d++ {
		dst.Set(d, d, math.Exp(-0.5*z[D+d]))
		dst.Set(D+d, D+d, 1/math.Sqrt2)
	}
}

// FisherVec stores (e^{−s} ⊙ v_μ, v_s/2) in each row of dst.
func (GaussianNLL) FisherVec(dst, z, v *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, vs, vd := rowsOf(v)
	_, _, ds, dd := rowsOf(dst)
	D := halves(c)
	for i := 0; i < n; i++ {
		s := zd[i*zs+D : i*zs+c]
		vi, out := vd[i*vs:i*vs+c], dd[i*ds:i*ds+c]
		for d, sd := range s {
			out[d] = math.Exp(-sd) * vi[d]
			out[D+d] = 0.5 * vi[D+d]
		}
	}
}

// Sample stores y = μ + e^{s/2} ε, ε ~ N(0, I).
func (GaussianNLL) Sample(dst, z []float64, rng *rand.Rand) {
	D := halves(len(z))
	for d := 0; d < D; d++ {
		dst[d] = z[d] + math.Exp(0.5*z[D+d])*rng.NormFloat64()
	}
}

// Predict stores the means μ_i in dst (N×D): the mean and mode of
// p(y|z_i).
func (GaussianNLL) Predict(dst, z *mat.Dense) {
	n, c := z.Dims()
	D := halves(c)
	checkPredict("gaussian_nll predictions", dst, z, D)
	dst.Copy(z.Slice(0, n, 0, D))
}

// Variance stores the variances e^{s_i} in dst (N×D).
func (GaussianNLL) Variance(dst, z *mat.Dense) {
	n, c := z.Dims()
	D := halves(c)
	checkPredict("gaussian_nll variances", dst, z, D)
	for i := 0; i < n; i++ {
		row := dst.RawRowView(i)
		for d, s := range z.RawRowView(i)[D:] {
			row[d] = math.Exp(s)
		}
	}
}
