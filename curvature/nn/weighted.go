package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// WeightedSoftmaxCrossEntropy is cross-entropy with a weight per class,
// ℓ(z, y) = w_y·(−log softmax(z)_y), as PyTorch's CrossEntropyLoss(weight=w)
// weighs each sample. Nil Weights weigh every class 1 (softmax
// cross-entropy); otherwise there is one weight per output, finite and
// ≥ 0. With p = softmax(z),
//
//	∇_z ℓ = w_y (p − e_y),   H_z = w_y (diag(p) − ppᵀ),
//	F_z = E_{y~p}[∇ℓ ∇ℓᵀ] = Σ_k p_k w_k² (p − e_k)(p − e_k)ᵀ,
//
// so the output Hessian depends on the label and differs from the output
// Fisher unless every weight is 1: the loss is a FisherLoss. Sample draws
// from the categorical distribution softmax(z), whose labels the weights
// then weigh.
//
// PyTorch's mean reduction divides Σ_i w_{y_i} ℓ_i by Σ_i w_{y_i}, not by
// N. That batch loss is softmax cross-entropy with per-sample weights
// w_{y_i} (package curvature's Batch.W), whose weighted mean divides by
// their sum; this loss with uniform sample weights is PyTorch's sum
// reduction divided by N.
type WeightedSoftmaxCrossEntropy struct {
	Weights []float64
}

var (
	_ FisherLoss = WeightedSoftmaxCrossEntropy{}
	_ Classifier = WeightedSoftmaxCrossEntropy{}
)

func (WeightedSoftmaxCrossEntropy) Name() string { return "weighted_softmax_ce" }

func (WeightedSoftmaxCrossEntropy) TargetDim(int) int { return 1 }

// CheckTargets reports, besides SoftmaxCrossEntropy's errors, Weights
// whose length is not the number of outputs, or with a weight that is
// negative, NaN or infinite.
func (l WeightedSoftmaxCrossEntropy) CheckTargets(y *mat.Dense, outputs int) error {
	if err := l.CheckWeights(outputs); err != nil {
		return err
	}
	return SoftmaxCrossEntropy{}.CheckTargets(y, outputs)
}

// CheckWeights reports Weights that do not fit C outputs: not C long, or
// with a weight that is negative, NaN or infinite. Nil weights fit.
func (l WeightedSoftmaxCrossEntropy) CheckWeights(outputs int) error {
	if l.Weights == nil {
		return nil
	}
	if len(l.Weights) != outputs {
		return fmt.Errorf("nn: %d class weights for %d outputs", len(l.Weights), outputs)
	}
	for k, w := range l.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("nn: class weight %d is %v; weights must be finite and ≥ 0", k, w)
		}
	}
	return nil
}

// weights returns the class weights for c outputs, and panics with a
// package message for a length CheckTargets would refuse.
func (l WeightedSoftmaxCrossEntropy) weights(c int) classWeights {
	if l.Weights != nil && len(l.Weights) != c {
		panic(fmt.Sprintf("nn: %d class weights for %d outputs; check them with CheckTargets", len(l.Weights), c))
	}
	return classWeights(l.Weights)
}

func (l WeightedSoftmaxCrossEntropy) Value(dst []float64, z, y *mat.Dense) float64 {
	_, c := z.Dims()
	return l.weights(c).value(dst, z, y)
}

func (l WeightedSoftmaxCrossEntropy) Grad(dst, z, y *mat.Dense) {
	_, c := z.Dims()
	l.weights(c).grad(dst, z, y)
}

func (l WeightedSoftmaxCrossEntropy) HessVec(dst, z, y, v *mat.Dense) {
	_, c := z.Dims()
	l.weights(c).hessVec(dst, z, y, v)
}

func (l WeightedSoftmaxCrossEntropy) Hessian(dst *mat.SymDense, z, y []float64) {
	softmaxHessian(dst, z, l.weightOf(z, y))
}

// Factor stores √w_y (I − p1ᵀ) diag(√p), SoftmaxCrossEntropy's factor
// scaled by √w_y.
func (l WeightedSoftmaxCrossEntropy) Factor(dst *mat.Dense, z, y []float64) int {
	softmaxFactor(dst, z, math.Sqrt(l.weightOf(z, y)), nil)
	return 0
}

// weightOf returns w_y for the output row z and the target row y.
func (l WeightedSoftmaxCrossEntropy) weightOf(z, y []float64) float64 {
	c := len(z)
	if !isClass(y[0], c) {
		panic(fmt.Sprintf("nn: label %v is not a class index in [0, %d); check targets with CheckTargets", y[0], c))
	}
	return l.weights(c).of(int(y[0]))
}

// FisherFactor stores S with column k = w_k √p_k (e_k − p), so that
// S Sᵀ = Σ_k p_k w_k² (p − e_k)(p − e_k)ᵀ.
func (l WeightedSoftmaxCrossEntropy) FisherFactor(dst *mat.Dense, z []float64) {
	softmaxFactor(dst, z, 1, l.weights(len(z)))
}

// FisherVec stores F_z v = Σ_k p_k w_k² (p − e_k)(pᵀv − v_k) = p Σ_k a_k − a,
// a_k = p_k w_k² (pᵀv − v_k), in each row of dst.
func (l WeightedSoftmaxCrossEntropy) FisherVec(dst, z, v *mat.Dense) {
	_, c := z.Dims()
	w := l.weights(c)
	softmaxProducts(dst, z, v, func(_ int, out, vi []float64, pv float64) {
		sum := 0.0
		for k, p := range out {
			wk := w.of(k)
			sum += p * wk * wk * (pv - vi[k])
		}
		for k, p := range out {
			wk := w.of(k)
			out[k] = p * (sum - wk*wk*(pv-vi[k]))
		}
	})
}

// Sample draws a class from softmax(z).
func (WeightedSoftmaxCrossEntropy) Sample(dst, z []float64, rng *rand.Rand) {
	SoftmaxCrossEntropy{}.Sample(dst, z, rng)
}

// Predict stores argmax z_i in dst[i, 0], as SoftmaxCrossEntropy.
func (WeightedSoftmaxCrossEntropy) Predict(dst, z *mat.Dense) {
	SoftmaxCrossEntropy{}.Predict(dst, z)
}

// Probabilities stores softmax(z_i) in row i of dst.
func (WeightedSoftmaxCrossEntropy) Probabilities(dst, z *mat.Dense) {
	SoftmaxCrossEntropy{}.Probabilities(dst, z)
}
