package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/vmath"
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
	n, c, stride, data := rowsOf(y)
	for i := 0; i < n; i++ {
		for k, v := range data[i*stride : i*stride+c] {
			if v < 0 || v > 1 {
				return fmt.Errorf("nn: binary target %v in row %d column %d is outside [0, 1]", v, i, k)
			}
		}
	}
	return nil
}

func (SigmoidBCE) Value(dst []float64, z, y *mat.Dense) float64 {
	n, c, zs, zd := rowsOf(z)
	_, _, ys, yd := rowsOf(y)
	var buf [chunk]float64
	total := 0.0
	for i := 0; i < n; i++ {
		s := 0.0
		for k0 := 0; k0 < c; k0 += chunk {
			zk := zd[i*zs+k0 : i*zs+min(c, k0+chunk)]
			yk := yd[i*ys+k0 : i*ys+k0+len(zk)]
			sp := buf[:len(zk)]
			vmath.Softplus(sp, zk)
			for k, v := range sp {
				s += v - yk[k]*zk[k]
			}
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
		out := dd[i*ds : i*ds+c]
		vmath.Sigmoid(out, zd[i*zs:i*zs+c])
		for k, yk := range yd[i*ys : i*ys+c] {
			out[k] -= yk
		}
	}
}

func (SigmoidBCE) HessVec(dst, z, _, v *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, vs, vd := rowsOf(v)
	_, _, ds, dd := rowsOf(dst)
	var buf [chunk]float64 // dst may be v
	for i := 0; i < n; i++ {
		for k0 := 0; k0 < c; k0 += chunk {
			zk := zd[i*zs+k0 : i*zs+min(c, k0+chunk)]
			p := buf[:len(zk)]
			vmath.Sigmoid(p, zk)
			vk, out := vd[i*vs+k0:i*vs+k0+len(zk)], dd[i*ds+k0:i*ds+k0+len(zk)]
			for k, pk := range p {
				out[k] = pk * (1 - pk) * vk[k]
			}
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
	vmath.Sigmoid(dst, z)
	for k, p := range dst {
		// 1 or 0 without a branch, which at p near ½ was mispredicted
		// half the time.
		var one uint64
		if rng.Float64() < p {
			one = 1
		}
		dst[k] = math.Float64frombits(one * 0x3ff0000000000000)
	}
}
