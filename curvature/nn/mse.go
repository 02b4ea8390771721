package nn

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// MSE is the squared error ℓ(z, y) = ½‖z − y‖², summed over the outputs: the
// negative log-likelihood of y ~ N(z, I) up to a constant. Its output
// Hessian is I.
type MSE struct{}

var _ Loss = MSE{}

func (MSE) Name() string { return "mse" }

func (MSE) TargetDim(outputs int) int { return outputs }

func (MSE) CheckTargets(y *mat.Dense, outputs int) error { return checkTargetShape(y, outputs) }

func (MSE) Value(dst []float64, z, y *mat.Dense) float64 {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	total := 0.0
	for i := 0; i < n; i++ {
		s := 0.0
		for k := 0; k < c; k++ {
			d := zd[i*zs+k] - yd[i*ys+k]
			s += d * d
		}
		dst[i] = 0.5 * s
		total += dst[i]
	}
	return total
}

func (MSE) Grad(dst, z, y *mat.Dense) { dst.Sub(z, y) }

func (MSE) HessVec(dst, _, _, v *mat.Dense) { dst.Copy(v) }

func (MSE) Hessian(dst *mat.SymDense, z, _ []float64) {
	for i := range z {
		for j := i; j < len(z); j++ {
			dst.SetSym(i, j, 0)
		}
		dst.SetSym(i, i, 1)
	}
}

func (MSE) Factor(dst *mat.Dense, z, _ []float64) int {
	dst.Zero()
	for i := range z {
		dst.Set(i, i, 1)
	}
	return 0
}

func (MSE) Sample(dst, z []float64, rng *rand.Rand) {
	for k, v := range z {
		dst[k] = v + rng.NormFloat64()
	}
}
