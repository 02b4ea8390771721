package nn

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Kronecker is implemented by layers whose parameters are the row-major p×q
// matrix Θ and whose output, at each of R weight-sharing positions r of a
// sample, is s_r = Θ ā_r with ā_r a q-vector formed from the input alone:
// a Dense layer has R = 1 and ā = [x; 1]; a convolution has one position per
// output location and ā_r its augmented input patch. A sample's parameter
// gradient is then Σ_r g_r ā_rᵀ with g_r = ∂ℓ/∂s_r, which is what K-FAC,
// EKFAC and the per-neuron partitions of package approx are built from; the
// layer's K-FAC block is kron(G, A) in the project's layout.
type Kronecker interface {
	Layer
	// KronShape returns p, q and R. NumParams is p·q.
	KronShape() (p, q, positions int)
	// KronInputs returns the (N·R)×q matrix whose row n·R + r is ā_r of
	// sample n of the batch x (N×InSize). It fills dst, resized when it
	// does not have that shape (nil allocates).
	KronInputs(dst, x *mat.Dense) *mat.Dense
	// KronGrads returns the (N·R)×p matrix whose row n·R + r is g_r of
	// sample n, from the gradient g (N×OutSize) of the loss with respect
	// to the layer's output: g itself when its rows already have that
	// layout, and otherwise dst filled as KronInputs fills it.
	KronGrads(dst, g *mat.Dense) *mat.Dense
}

// Affine is implemented by Kronecker layers with one position whose ā is
// the input itself, followed by a 1 when the layer has a bias: s = W x + b.
// Package curvature chains their Jacobians W to assemble dense curvature
// matrices from per-sample Kronecker structure.
type Affine interface {
	Kronecker
	// Weights returns W (p×InSize) and b (p long, or empty when there is
	// no bias) as views of θ.
	Weights(theta []float64) (w blas64.General, b blas64.Vector)
}

// Pointwise is implemented by parameter-free layers that apply one function
// to every entry, y = φ(x).
type Pointwise interface {
	Layer
	// Activation returns φ.
	Activation() Activation
}

// Structure says how the block-diagonal approximations of package approx
// treat a layer's parameter block.
type Structure int

const (
	// DenseBlock keeps the block exact and dense: the structure of a
	// layer with parameters that is neither Kronecker nor says otherwise.
	DenseBlock Structure = iota
	// DiagonalBlock keeps the block's exact diagonal only, for a layer
	// with too many parameters for a dense block and no Kronecker form.
	DiagonalBlock
	// KroneckerBlock factors the block as kron(G, A): the structure of
	// every Kronecker layer.
	KroneckerBlock
)

var structureNames = [...]string{"dense", "diagonal", "kronecker"}

func (s Structure) String() string {
	if s < 0 || int(s) >= len(structureNames) {
		return "Structure(?)"
	}
	return structureNames[s]
}

// Structurer is implemented by layers that choose the structure of their
// parameter block.
type Structurer interface {
	BlockStructure() Structure
}

// StructureOf returns the structure of l's parameter block: the layer's own
// choice when it is a Structurer, KroneckerBlock for a Kronecker layer and
// DenseBlock otherwise. A Structurer may only choose KroneckerBlock when it
// is a Kronecker layer.
func StructureOf(l Layer) Structure {
	if s, ok := l.(Structurer); ok {
		if st := s.BlockStructure(); st != KroneckerBlock {
			return st
		}
	}
	if _, ok := l.(Kronecker); ok {
		return KroneckerBlock
	}
	return DenseBlock
}

// Validator is implemented by layers whose settings can be inconsistent on
// their own — a convolution's kernel larger than its padded input, a
// pooling window larger than its input, a normalised size that does not
// divide the row, an empty residual body. New calls Validate and refuses
// the network with the layer's index and the error, which names the sizes.
type Validator interface {
	Validate() error
}
