package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/vmath"
)

// SoftmaxCrossEntropy is ℓ(z, y) = −log softmax(z)_y for a class index y
// (stored as a float in a one-column target), the negative log-likelihood of
// a categorical distribution with logits z. With p = softmax(z), ∇_z ℓ =
// p − e_y and H_z = diag(p) − ppᵀ.
type SoftmaxCrossEntropy struct{}

var _ Loss = SoftmaxCrossEntropy{}

func (SoftmaxCrossEntropy) Name() string { return "softmax_ce" }

func (SoftmaxCrossEntropy) TargetDim(int) int { return 1 }

func (SoftmaxCrossEntropy) CheckTargets(y *mat.Dense, outputs int) error {
	if err := checkTargetShape(y, 1); err != nil {
		return err
	}
	if outputs < 2 {
		return fmt.Errorf("nn: softmax cross-entropy needs at least 2 outputs, got %d", outputs)
	}
	n, _ := y.Dims()
	for i := 0; i < n; i++ {
		if v := y.At(i, 0); !isClass(v, outputs) {
			return fmt.Errorf("nn: label %v in row %d is not a class index in [0, %d)", v, i, outputs)
		}
	}
	return nil
}

// isClass reports whether v is a class index in [0, outputs), compared as
// floats: a finite label of 2⁶³ or more would wrap around as an int.
func isClass(v float64, outputs int) bool {
	return v == math.Trunc(v) && v >= 0 && v < float64(outputs)
}

// class returns the class index y[i] for c outputs, and panics with a
// package message for one that CheckTargets would refuse.
func class(y *mat.Dense, i, c int) int {
	v := y.At(i, 0)
	if !isClass(v, c) {
		panic(fmt.Sprintf("nn: label %v in row %d is not a class index in [0, %d); check targets with CheckTargets", v, i, c))
	}
	return int(v)
}

func (SoftmaxCrossEntropy) Value(dst []float64, z, y *mat.Dense) float64 {
	n, c, zs, zd := rowsOf(z)
	total := 0.0
	for i := 0; i < n; i++ {
		zi := zd[i*zs : i*zs+c]
		dst[i] = logSumExp(zi) - zi[class(y, i, c)]
		total += dst[i]
	}
	return total
}

func (SoftmaxCrossEntropy) Grad(dst, z, y *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, ds, dd := rowsOf(dst)
	for i := 0; i < n; i++ {
		out := dd[i*ds : i*ds+c]
		softmaxTo(out, zd[i*zs:i*zs+c])
		out[class(y, i, c)] -= 1
	}
}

func (SoftmaxCrossEntropy) HessVec(dst, z, v *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, ds, dd := rowsOf(dst)
	_, _, vs, vd := rowsOf(v)
	for i := 0; i < n; i++ {
		out := dd[i*ds : i*ds+c]
		vi := vd[i*vs : i*vs+c]
		softmaxTo(out, zd[i*zs:i*zs+c]) // out holds p until overwritten
		pv := 0.0
		for k, p := range out {
			pv += p * vi[k]
		}
		for k, p := range out {
			out[k] = p * (vi[k] - pv)
		}
	}
}

func (SoftmaxCrossEntropy) Hessian(dst *mat.SymDense, z []float64) {
	p := make([]float64, len(z))
	softmaxTo(p, z)
	for i, pi := range p {
		for j := i; j < len(p); j++ {
			dst.SetSym(i, j, -pi*p[j])
		}
		dst.SetSym(i, i, pi*(1-pi))
	}
}

// Factor stores S = (I − p1ᵀ) diag(√p): S Sᵀ = diag(p) − 2ppᵀ + pᵀ1·ppᵀ =
// diag(p) − ppᵀ since Σp = 1.
func (SoftmaxCrossEntropy) Factor(dst *mat.Dense, z []float64) {
	p := make([]float64, len(z))
	softmaxTo(p, z)
	for a := range p {
		for b, pb := range p {
			e := -p[a]
			if a == b {
				e += 1
			}
			dst.Set(a, b, e*math.Sqrt(pb))
		}
	}
}

func (SoftmaxCrossEntropy) Sample(dst, z []float64, rng *rand.Rand) {
	m := maxOf(z)
	sum := 0.0
	for _, v := range z {
		sum += math.Exp(v - m)
	}
	u := rng.Float64() * sum
	k := 0
	for ; k < len(z)-1; k++ {
		u -= math.Exp(z[k] - m)
		if u < 0 {
			break
		}
	}
	dst[0] = float64(k)
}

func softmaxTo(dst, z []float64) {
	m := maxOf(z)
	dst = dst[:len(z)]
	for k, v := range z {
		dst[k] = v - m
	}
	vmath.Exp(dst, dst)
	sum := 0.0
	for _, e := range dst {
		sum += e
	}
	inv := 1 / sum
	for k := range dst {
		dst[k] *= inv
	}
}

func logSumExp(z []float64) float64 {
	m := maxOf(z)
	var buf [chunk]float64
	s := 0.0
	for k0 := 0; k0 < len(z); k0 += chunk {
		e := buf[:min(len(z), k0+chunk)-k0]
		for k := range e {
			e[k] = z[k0+k] - m
		}
		vmath.Exp(e, e)
		for _, v := range e {
			s += v
		}
	}
	return m + math.Log(s)
}

func maxOf(z []float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	return m
}
