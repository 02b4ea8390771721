package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/vec"
)

// Loss is a per-sample loss ℓ(z, y) on the network output z (logits, not
// probabilities), the negative log-likelihood of a distribution p(y|z).
// Batch matrices hold one sample a row: z is N×C, targets y are N×TargetDim.
// Nothing here divides by N: the network's batch loss is the mean of the
// per-sample values, and callers scale.
type Loss interface {
	// Name returns the name LossByName accepts.
	Name() string
	// TargetDim returns the width of a target row for C outputs.
	TargetDim(outputs int) int
	// CheckTargets reports targets that are invalid for C outputs: wrong
	// width, NaN or Inf, labels out of range.
	CheckTargets(y *mat.Dense, outputs int) error
	// Value stores ℓ(z_i, y_i) in dst[i] and returns their sum.
	Value(dst []float64, z, y *mat.Dense) float64
	// Grad stores ∇_z ℓ(z_i, y_i) in row i of dst.
	Grad(dst, z, y *mat.Dense)
	// HessVec stores H_z(z_i)·v_i in row i of dst, H_z = ∇²_z ℓ. For these
	// losses H_z does not depend on y.
	HessVec(dst, z, v *mat.Dense)
	// Hessian stores H_z(z) for one output row z in dst (C×C).
	Hessian(dst *mat.SymDense, z []float64)
	// Factor stores a C×C matrix S with S Sᵀ = H_z(z) in dst.
	Factor(dst *mat.Dense, z []float64)
	// Sample stores a draw y ~ p(y|z) for one output row z in dst
	// (TargetDim long).
	Sample(dst, z []float64, rng *rand.Rand)
}

// LossByName returns "mse", "softmax_ce" or "sigmoid_bce".
func LossByName(name string) (Loss, error) {
	switch strings.ToLower(name) {
	case "mse":
		return MSE{}, nil
	case "softmax_ce", "softmaxce", "cross_entropy", "crossentropy":
		return SoftmaxCrossEntropy{}, nil
	case "sigmoid_bce", "sigmoidbce", "bce":
		return SigmoidBCE{}, nil
	}
	return nil, fmt.Errorf("nn: unknown loss %q (want mse, softmax_ce or sigmoid_bce)", name)
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
		if vec.AllFinite(row) {
			continue
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("nn: target row %d column %d is %v", i, j, v)
			}
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
