package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"
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
	return classWeights(nil).value(dst, z, y)
}

func (SoftmaxCrossEntropy) Grad(dst, z, y *mat.Dense) { classWeights(nil).grad(dst, z, y) }

func (SoftmaxCrossEntropy) HessVec(dst, z, y, v *mat.Dense) { classWeights(nil).hessVec(dst, z, y, v) }

func (SoftmaxCrossEntropy) Hessian(dst *mat.SymDense, z, _ []float64) { softmaxHessian(dst, z, 1) }

// Factor stores S = (I − p1ᵀ) diag(√p): S Sᵀ = diag(p) − 2ppᵀ + pᵀ1·ppᵀ =
// diag(p) − ppᵀ since Σp = 1.
func (SoftmaxCrossEntropy) Factor(dst *mat.Dense, z, _ []float64) int {
	softmaxFactor(dst, z, 1, nil)
	return 0
}

// classWeights are the class weights of cross-entropy, nil meaning every
// weight 1: the code of both softmax losses.
type classWeights []float64

// of returns the weight of class k.
func (w classWeights) of(k int) float64 {
	if w == nil {
		return 1
	}
	return w[k]
}

func (w classWeights) value(dst []float64, z, y *mat.Dense) float64 {
	n, c, zs, zd := rowsOf(z)
	total := 0.0
	for i := 0; i < n; i++ {
		zi := zd[i*zs : i*zs+c]
		k := class(y, i, c)
		dst[i] = w.of(k) * (logSumExp(zi) - zi[k])
		total += dst[i]
	}
	return total
}

func (w classWeights) grad(dst, z, y *mat.Dense) {
	n, c, zs, zd := rowsOf(z)
	_, _, ds, dd := rowsOf(dst)
	for i := 0; i < n; i++ {
		out := dd[i*ds : i*ds+c]
		softmaxTo(out, zd[i*zs:i*zs+c])
		k := class(y, i, c)
		out[k] -= 1
		if w != nil {
			scale(out, w[k])
		}
	}
}

// hessVec stores w_y (diag(p) − ppᵀ) v_i = w_y p ⊙ (v − pᵀv) in row i of
// dst.
func (w classWeights) hessVec(dst, z, y, v *mat.Dense) {
	_, c := z.Dims()
	softmaxProducts(dst, z, v, func(i int, out, vi []float64, pv float64) {
		wy := 1.0
		if w != nil {
			wy = w[class(y, i, c)]
		}
		for k, p := range out {
			out[k] = wy * p * (vi[k] - pv)
		}
	})
}

// softmaxProducts calls row(i, out, v_i, pᵀv_i) for each row i, with out
// the row of dst holding p = softmax(z_i), which row overwrites with the
// product.
func softmaxProducts(dst, z, v *mat.Dense, row func(i int, out, vi []float64, pv float64)) {
	n, c, zs, zd := rowsOf(z)
	_, _, ds, dd := rowsOf(dst)
	_, _, vs, vd := rowsOf(v)
	for i := 0; i < n; i++ {
		out := dd[i*ds : i*ds+c]
		vi := vd[i*vs : i*vs+c]
		softmaxTo(out, zd[i*zs:i*zs+c])
		pv := 0.0
		for k, p := range out {
			pv += p * vi[k]
		}
		row(i, out, vi, pv)
	}
}

// softmaxHessian stores w (diag(p) − ppᵀ) in dst, p = softmax(z), with p
// kept on the diagonal, which row i reads and then overwrites.
func softmaxHessian(dst *mat.SymDense, z []float64, w float64) {
	raw := dst.RawSymmetric()
	c := len(z)
	for i, v := range z {
		raw.Data[i*raw.Stride+i] = v
	}
	softmaxDiag(raw)
	for i := 0; i < c; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+c]
		pi := row[i]
		for j := i + 1; j < c; j++ {
			row[j] = -w * pi * raw.Data[j*raw.Stride+j]
		}
		row[i] = w * pi * (1 - pi)
	}
}

// softmaxDiag replaces the diagonal of m by its softmax.
func softmaxDiag(m blas64.Symmetric) {
	mx := math.Inf(-1)
	for i := 0; i < m.N; i++ {
		mx = max(mx, m.Data[i*m.Stride+i])
	}
	sum := 0.0
	for i := 0; i < m.N; i++ {
		e := math.Exp(m.Data[i*m.Stride+i] - mx)
		m.Data[i*m.Stride+i] = e
		sum += e
	}
	for i := 0; i < m.N; i++ {
		m.Data[i*m.Stride+i] /= sum
	}
}

// softmaxFactor stores S_ab = s·w_b (δ_ab − p_a) √p_b in dst (w nil: every
// w_b = 1), p = softmax(z): S Sᵀ = s² (diag(p) − ppᵀ) for w = nil, and
// S Sᵀ = Σ_b p_b w_b² (p − e_b)(p − e_b)ᵀ for s = 1. p is kept in the last
// row until the others are written.
func softmaxFactor(dst *mat.Dense, z []float64, s float64, w []float64) {
	raw := dst.RawMatrix()
	c := len(z)
	p := raw.Data[(c-1)*raw.Stride : (c-1)*raw.Stride+c]
	softmaxTo(p, z)
	entry := func(a, b int, pa float64) float64 {
		e := -pa
		if a == b {
			e += 1
		}
		e *= s * math.Sqrt(p[b])
		if w != nil {
			e *= w[b]
		}
		return e
	}
	for a := 0; a < c-1; a++ {
		row := raw.Data[a*raw.Stride : a*raw.Stride+c]
		for b := range row {
			row[b] = entry(a, b, p[a])
		}
	}
	last := p[c-1]
	for b := range p {
		p[b] = entry(c-1, b, last) // reads p[b] before it is overwritten
	}
}

// scale multiplies v by s.
func scale(v []float64, s float64) {
	for k := range v {
		v[k] *= s
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
