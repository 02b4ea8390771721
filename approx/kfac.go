package approx

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// KronShape gives the sizes of a Kronecker block's factors: G is G×G (a
// layer's out) and A is A×A (its in+1); the block acts on G·A parameters.
type KronShape struct {
	G, A int
}

// LayerShapes returns the Kronecker shapes of a multi-layer perceptron with
// the given widths (input first): layer l has G = widths[l+1] and
// A = widths[l]+1. It panics unless there are at least two widths, all
// positive.
func LayerShapes(widths ...int) []KronShape {
	if len(widths) < 2 {
		panic("approx: LayerShapes needs at least two widths")
	}
	s := make([]KronShape, len(widths)-1)
	for l := range s {
		if widths[l] <= 0 || widths[l+1] <= 0 {
			panic(fmt.Sprintf("approx: non-positive layer width in %v", widths))
		}
		s[l] = KronShape{G: widths[l+1], A: widths[l] + 1}
	}
	return s
}

// KronFactors are the two factors of one layer's K-FAC block, G⊗A.
type KronFactors struct {
	G mat.Symmetric // out×out, from the back-propagated pre-activation gradients
	A mat.Symmetric // (in+1)×(in+1), from the augmented input activations
}

// KFACSettings configure NewKFAC. The zero value is exact damping through
// eigendecompositions and no memory limit.
type KFACSettings struct {
	// Damping selects what SolveDampedTo inverts; see Damping.
	Damping Damping
	// Solver selects how the factors are inverted; see FactorSolver.
	Solver FactorSolver
	// Budget is the most floats the factors may hold (Σ out² + (in+1)²);
	// ≤ 0 means no limit.
	Budget int
}

// KFAC is Kronecker-factored approximate curvature (Martens & Grosse
// 2015): a block-diagonal approximation with one block per layer, block l
// being G_l⊗A_l on the layer's p_l·q_l consecutive parameters. Products,
// damped solves, trace and log-determinant all come from the factors.
type KFAC struct {
	*BlockDiagonal
	layers []*Kron
}

var _ Approximation = (*KFAC)(nil)

// NewKFAC returns the K-FAC approximation with the given per-layer
// factors (copied). With the eigen solver each factor is eigendecomposed
// here, once. It returns an error for empty or non-finite factors or
// invalid settings, and a *curvature.BudgetError when Σ p_l² + q_l²
// exceeds the budget.
func NewKFAC(factors []KronFactors, s *KFACSettings) (*KFAC, error) {
	var set KFACSettings
	if s != nil {
		set = *s
	}
	if len(factors) == 0 {
		return nil, fmt.Errorf("approx: K-FAC with no layers")
	}
	floats := 0
	for _, f := range factors {
		if f.G == nil || f.A == nil {
			return nil, fmt.Errorf("approx: K-FAC layer with a nil factor")
		}
		p, q := f.G.SymmetricDim(), f.A.SymmetricDim()
		floats += p*p + q*q
	}
	if err := curvature.CheckFloats("K-FAC factors", floats, set.Budget); err != nil {
		return nil, err
	}
	ks := &KronSettings{Damping: set.Damping, Solver: set.Solver}
	layers := make([]*Kron, len(factors))
	blocks := make([]Approximation, len(factors))
	sizes := make([]int, len(factors))
	errs := make([]error, len(factors))
	// The layers are independent, and with the eigen solver each costs
	// two eigendecompositions: build them on up to GOMAXPROCS goroutines.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for l, f := range factors {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			layers[l], errs[l] = NewKron(f.G, f.A, ks)
		})
	}
	wg.Wait()
	for l, k := range layers {
		if errs[l] != nil {
			return nil, fmt.Errorf("approx: K-FAC layer %d: %w", l, errs[l])
		}
		blocks[l], sizes[l] = k, k.Dim()
	}
	bd, err := NewBlockDiagonal(blocks, Ranges(sizes...))
	if err != nil {
		return nil, err
	}
	return &KFAC{BlockDiagonal: bd, layers: layers}, nil
}

// NumLayers returns the number of layers.
func (k *KFAC) NumLayers() int { return len(k.layers) }

// Layer returns layer l's Kronecker block.
func (k *KFAC) Layer(l int) *Kron { return k.layers[l] }

// Shapes returns the layers' factor sizes.
func (k *KFAC) Shapes() []KronShape {
	s := make([]KronShape, len(k.layers))
	for l, kr := range k.layers {
		s[l] = kr.Shape()
	}
	return s
}
