package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/vec"
)

// Loss is a per-sample loss ℓ(z, y) on the network output z (logits, not
// probabilities), the negative log-likelihood of a distribution p(y|z) (up
// to a weight that may depend on y, as class-weighted cross-entropy's).
// Batch matrices hold one sample a row: z is N×C, targets y are N×TargetDim.
// Nothing here divides by N or weighs samples: the network's batch loss is
// the (weighted) mean of the per-sample values, and callers scale.
//
// The output curvature takes the targets: H_z = ∇²_z ℓ(z, y) may depend on
// y (it does for class-weighted cross-entropy and the Gaussian negative
// log-likelihood with a learned variance; it does not for MSE, softmax
// cross-entropy and sigmoid binary cross-entropy).
type Loss interface {
	// Name returns the name LossByName accepts.
	Name() string
	// TargetDim returns the width of a target row for C outputs.
	TargetDim(outputs int) int
	// CheckTargets reports targets that are invalid for C outputs: wrong
	// width, NaN or Inf, labels out of range; and settings of the loss
	// that do not fit C outputs.
	CheckTargets(y *mat.Dense, outputs int) error
	// Value stores ℓ(z_i, y_i) in dst[i] and returns their sum.
	Value(dst []float64, z, y *mat.Dense) float64
	// Grad stores ∇_z ℓ(z_i, y_i) in row i of dst.
	Grad(dst, z, y *mat.Dense)
	// HessVec stores H_z(z_i, y_i)·v_i in row i of dst, H_z = ∇²_z ℓ.
	HessVec(dst, z, y, v *mat.Dense)
	// Hessian stores H_z(z, y) for one output row z and its target row y
	// in dst (C×C).
	Hessian(dst *mat.SymDense, z, y []float64)
	// Factor stores in dst a C×C matrix S whose last neg columns enter
	// with a minus sign, H_z(z, y) = S₊S₊ᵀ − S₋S₋ᵀ, S₊ the first C − neg
	// columns and S₋ the last neg, and returns neg: 0 for a convex loss,
	// whose S Sᵀ = H_z. The exact GGN and K-FAC backpropagate its columns.
	Factor(dst *mat.Dense, z, y []float64) (neg int)
	// Sample stores a draw y ~ p(y|z) for one output row z in dst
	// (TargetDim long).
	Sample(dst, z []float64, rng *rand.Rand)
}

// FisherLoss is implemented by losses whose output Fisher
//
//	F_z = E_{y~p(y|z)}[∇_z ℓ ∇_z ℓᵀ]
//
// is not their output Hessian: the Fisher of package curvature is then
// (1/N) Σ J_iᵀ F_z,i J_i rather than the GGN, and K-FAC's exact factors
// backpropagate the columns of FisherFactor. For the negative
// log-likelihood of an exponential family in its natural parameter z (MSE,
// softmax and sigmoid cross-entropy) H_z does not depend on y and equals
// F_z, and a loss need not implement FisherLoss.
type FisherLoss interface {
	Loss
	// FisherFactor stores in dst a C×C matrix S with S Sᵀ = F_z(z).
	FisherFactor(dst *mat.Dense, z []float64)
	// FisherVec stores F_z(z_i)·v_i in row i of dst.
	FisherVec(dst, z, v *mat.Dense)
}

// LossByName returns "mse", "softmax_ce", "sigmoid_bce", "gaussian_nll" or
// "weighted_softmax_ce" (with every class weight 1 until its Weights are
// set).
func LossByName(name string) (Loss, error) {
	switch strings.ToLower(name) {
	case "mse":
		return MSE{}, nil
	case "softmax_ce", "softmaxce", "cross_entropy", "crossentropy":
		return SoftmaxCrossEntropy{}, nil
	case "sigmoid_bce", "sigmoidbce", "bce":
		return SigmoidBCE{}, nil
	case "gaussian_nll", "gaussiannll":
		return GaussianNLL{}, nil
	case "weighted_softmax_ce", "weightedsoftmaxce":
		return WeightedSoftmaxCrossEntropy{}, nil
	}
	return nil, fmt.Errorf("nn: unknown loss %q (want mse, softmax_ce, sigmoid_bce, gaussian_nll or weighted_softmax_ce)", name)
}

// checkTargetShape reports a wrong width, an empty batch and the first
// non-finite entry of y.
func checkTargetShape(y *mat.Dense, want int) error {
	n, c, stride, data := rowsOf(y)
	if n == 0 {
		return fmt.Errorf("nn: no targets")
	}
	if c != want {
		return fmt.Errorf("nn: targets have %d columns, want %d", c, want)
	}
	for i := 0; i < n; i++ {
		row := data[i*stride : i*stride+c]
		if j := vec.FirstNonFinite(row); j >= 0 {
			return fmt.Errorf("nn: target row %d column %d is %v", i, j, row[j])
		}
	}
	return nil
}

// chunk is the length of the stack buffers through which the losses pass
// a row to internal/vmath, longer rows a piece at a time.
const chunk = 256

func rowsOf(m *mat.Dense) (n, c, stride int, data []float64) {
	r := m.RawMatrix()
	return r.Rows, r.Cols, r.Stride, r.Data
}
