package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// SigmoidBCE is binary cross-entropy on logits summed over the outputs,
// ℓ(z, y) = Σ_k [log(1 + e^{z_k}) − y_k z_k], the negative log-likelihood of
// independent Bernoulli(σ(z_k)) targets y_k ∈ [0, 1]. ∇_z ℓ = σ(z) − y and
// H_z = diag(σ(z)(1 − σ(z))).
type SigmoidBCE struct{}

var _ Loss = SigmoidBCE{}

func (SigmoidBCE) Name() string { return "sigmoid_bce" }

func (SigmoidBCE) TargetDim(outputs int) int { return outputs }

func (SigmoidBCE) CheckTargets(y *mat.Dense, outputs int) error {
	if err := checkTargetShape(y, outputs); err != nil {
		return err
	}
	n, c := y.Dims()
	for i := 0; i < n; i++ {
		for k := 0; k < c; k++ {
			if v := y.At(i, k); v < 0 || v > 1 {
				return fmt.Errorf("nn: binary target %v in row %d column %d is outside [0, 1]", v, i, k)
			}
		}
	}
	return nil
}

func (SigmoidBCE) Value(dst []float64, z, y *mat.Dense) float64 {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	total := 0.0
	for i := 0; i < n; i++ {
		s := 0.0
		for k := 0; k < c; k++ {
			zv := zd[i*zs+k]
			s += softplus(zv) - yd[i*ys+k]*zv
		}
		dst[i] = s
		total += s
	}
	return total
}

func (SigmoidBCE) Grad(dst, z, y *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	_, _, ds, dd := rowsOf(dst)
	for i := 0; i < n; i++ {
		for k := 0; k < c; k++ {
			dd[i*ds+k] = sigmoid(zd[i*zs+k]) - yd[i*ys+k]
		}
	}
}

func (SigmoidBCE) HessVec(dst, z, _, v *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, vs, vd := rowsOf(v)
	_, _, ds, dd := rowsOf(dst)
	for i := 0; i < n; i++ {
		for k := 0; k < c; k++ {
			p := sigmoid(zd[i*zs+k])
			dd[i*ds+k] = p * (1 - p) * vd[i*vs+k]
		}
	}
}

func (SigmoidBCE) Hessian(dst *mat.SymDense, z, _ []float64) {
	for i, v := range z {
		for j := i; j < len(z); j++ {
			dst.SetSym(i, j, 0)
		}
		p := sigmoid(v)
		dst.SetSym(i, i, p*(1-p))
	}
}

func (SigmoidBCE) Factor(dst *mat.Dense, z, _ []float64) int {
	dst.Zero()
	for i, v := range z {
		p := sigmoid(v)
		dst.Set(i, i, math.Sqrt(p*(1-p)))
	}
	return 0
}

func (SigmoidBCE) Sample(dst, z []float64, rng *rand.Rand) {
	for k, v := range z {
		if rng.Float64() < sigmoid(v) {
			dst[k] = 1
		} else {
			dst[k] = 0
		}
	}
}
