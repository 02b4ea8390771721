package approx

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
)

// FactorKind selects how K-FAC's G factors are estimated from a batch.
type FactorKind int

const (
	// ExactFactors backpropagates every column of the output-Hessian
	// factor S (S Sᵀ = H_z): G = (1/N) Σ_i Σ_c b_ic b_icᵀ, b_ic =
	// J_{z←s}ᵀ S_i e_c. K-FAC then approximates the GGN (= Fisher); this
	// is "KFLR" (Botev et al. 2017).
	ExactFactors FactorKind = iota
	// MCFactors backpropagates gradients at labels sampled from the model,
	// y ~ p(y|z), as Martens & Grosse (2015): an unbiased estimate of the
	// exact factor.
	MCFactors
	// EmpiricalFactors backpropagates gradients at the true labels: the
	// Kronecker factorisation of the empirical Fisher.
	EmpiricalFactors
)

var factorKindNames = [...]string{"exact", "mc", "empirical"}

func (k FactorKind) String() string {
	if k < 0 || int(k) >= len(factorKindNames) {
		return fmt.Sprintf("FactorKind(%d)", int(k))
	}
	return factorKindNames[k]
}

// ParseFactorKind returns the FactorKind named exact, mc or empirical.
func ParseFactorKind(name string) (FactorKind, error) {
	for k, s := range factorKindNames {
		if s == name {
			return FactorKind(k), nil
		}
	}
	return 0, fmt.Errorf("approx: unknown K-FAC factor kind %q (want exact, mc or empirical)", name)
}

// FactorSettings configure KFACFactors. The zero value means exact factors.
type FactorSettings struct {
	Kind FactorKind
	// Samples is the number of labels drawn per input for MCFactors. If
	// Samples is 0, it defaults to 1.
	Samples int
	// Rand draws the MCFactors labels; if nil, a generator seeded with Seed.
	Rand *rand.Rand
	Seed uint64
}

// KFACFactors returns, for each Dense layer of m (in order), the K-FAC
// factors on the batch at θ:
//
//	A_l = (1/N) Σ_i ā_i ā_iᵀ,  ā = [a_{l−1}; 1]   ((in+1)×(in+1))
//	G_l = (1/N) Σ_i δ_i δ_iᵀ,  δ = ∂ℓ_i/∂s_l      (out×out)
//
// with δ from the output-Hessian factor, sampled labels or the true labels
// (see FactorKind), so that kron(G_l, A_l) approximates layer l's block in
// the project's layout. Every layer with parameters must be nn.Dense.
func KFACFactors(m *curvature.Model, theta []float64, b curvature.Batch, s *FactorSettings) ([]KronFactors, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	t.Forward(theta, b.X)
	return TapeFactors(t, b.Y, s)
}

// TapeFactors returns the K-FAC factors of KFACFactors from a tape that
// has run Forward on a batch whose targets are y (used only by
// EmpiricalFactors), so that an optimizer can share one forward pass
// between its factor statistics and other products. The tape's batch is
// not validated here.
func TapeFactors(t *nn.Tape, y *mat.Dense, s *FactorSettings) ([]KronFactors, error) {
	var set FactorSettings
	if s != nil {
		set = *s
	}
	if set.Samples < 0 {
		return nil, fmt.Errorf("approx: %d Monte-Carlo samples; want at least 1", set.Samples)
	}
	if set.Kind < ExactFactors || set.Kind > EmpiricalFactors {
		return nil, fmt.Errorf("approx: unknown K-FAC factor kind %d", set.Kind)
	}
	dense, err := denseLayers(t.Net)
	if err != nil {
		return nil, err
	}
	return tapeFactors(t, dense, y, set), nil
}

func tapeFactors(t *nn.Tape, dense []int, y *mat.Dense, set FactorSettings) []KronFactors {
	n, _ := t.Z().Dims()

	factors := make([]KronFactors, len(dense))
	index := make(map[int]int, len(dense))
	gs := make([]*mat.SymDense, len(dense))
	for l, k := range dense {
		index[k] = l
		d := t.Net.Layers[k].(nn.Dense)
		abar := augment(t.Input(k))
		a := mat.NewSymDense(d.In+1, nil)
		gemm.Syrk(blas.Trans, 1/float64(n), abar.RawMatrix(), 0, a.RawSymmetric())
		gs[l] = mat.NewSymDense(d.Out, nil)
		factors[l] = KronFactors{G: gs[l], A: a}
	}

	us, weight := outputVectors(t, y, set)
	for _, u := range us {
		t.BackpropOutput(u, func(k int, g *mat.Dense) {
			if l, ok := index[k]; ok {
				gemm.Syrk(blas.Trans, weight, g.RawMatrix(), 1, gs[l].RawSymmetric())
			}
		})
	}
	return factors
}

// KFACOf returns the K-FAC approximation of m's curvature on the batch:
// KFACFactors then NewKFAC.
func KFACOf(m *curvature.Model, theta []float64, b curvature.Batch, fs *FactorSettings, ks *KFACSettings) (*KFAC, error) {
	f, err := KFACFactors(m, theta, b, fs)
	if err != nil {
		return nil, err
	}
	return NewKFAC(f, ks)
}

// denseLayers returns the indices of the network's Dense layers, and an
// error if some other layer has parameters K-FAC cannot factor.
func denseLayers(net *nn.Network) ([]int, error) {
	var idx []int
	for k, l := range net.Layers {
		if _, ok := l.(nn.Dense); ok {
			idx = append(idx, k)
		} else if l.NumParams() > 0 {
			return nil, fmt.Errorf("approx: layer %d (%T) has parameters but is not nn.Dense; K-FAC factors only Dense layers", k, l)
		}
	}
	if len(idx) == 0 {
		return nil, errors.New("approx: the network has no Dense layer")
	}
	return idx, nil
}

// augment returns [x | 1].
func augment(x *mat.Dense) *mat.Dense {
	n, c := x.Dims()
	out := mat.NewDense(n, c+1, nil)
	for i := 0; i < n; i++ {
		row := out.RawRowView(i)
		copy(row, x.RawRowView(i))
		row[c] = 1
	}
	return out
}
