package approx

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
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
	dense, err := denseLayers(t.Net)
	if err != nil {
		return nil, err
	}
	f := make([]KronFactors, len(dense))
	for l, k := range dense {
		d := t.Net.Layers[k].(nn.Dense)
		f[l] = KronFactors{G: mat.NewSymDense(d.Out, nil), A: mat.NewSymDense(d.In+1, nil)}
	}
	if err := UpdateTapeFactors(f, 0, t, y, s); err != nil {
		return nil, err
	}
	return f, nil
}

// UpdateTapeFactors stores ε·F + (1−ε)·F_tape in each factor F of dst,
// F_tape the factor TapeFactors would return: the running average of
// Martens & Grosse's K-FAC, updated in place without building F_tape, for
// optimizers that average statistics every step. With ε = 0 the old
// contents are not read. The factors of dst must be *mat.SymDense of the
// layers' sizes (as TapeFactors returns).
func UpdateTapeFactors(dst []KronFactors, decay float64, t *nn.Tape, y *mat.Dense, s *FactorSettings) error {
	var set FactorSettings
	if s != nil {
		set = *s
	}
	if set.Samples < 0 {
		return fmt.Errorf("approx: %d Monte-Carlo samples; want at least 1", set.Samples)
	}
	if set.Kind < ExactFactors || set.Kind > EmpiricalFactors {
		return fmt.Errorf("approx: unknown K-FAC factor kind %d", set.Kind)
	}
	if !(decay >= 0 && decay < 1) {
		return fmt.Errorf("approx: running-average weight %v; want it in [0, 1)", decay)
	}
	dense, err := denseLayers(t.Net)
	if err != nil {
		return err
	}
	if len(dst) != len(dense) {
		return fmt.Errorf("approx: %d factor pairs for %d Dense layers", len(dst), len(dense))
	}
	as, gs := make([]*mat.SymDense, len(dense)), make([]*mat.SymDense, len(dense))
	for l, k := range dense {
		d := t.Net.Layers[k].(nn.Dense)
		var okA, okG bool
		as[l], okA = dst[l].A.(*mat.SymDense)
		gs[l], okG = dst[l].G.(*mat.SymDense)
		if !okA || !okG || as[l].SymmetricDim() != d.In+1 || gs[l].SymmetricDim() != d.Out {
			return fmt.Errorf("approx: layer %d's factors must be *mat.SymDense of sizes %d and %d", l, d.Out, d.In+1)
		}
	}
	updateTapeFactors(as, gs, decay, t, dense, y, set)
	return nil
}

func updateTapeFactors(as, gs []*mat.SymDense, decay float64, t *nn.Tape, dense []int, y *mat.Dense, set FactorSettings) {
	n, _ := t.Z().Dims()
	index := make(map[int]int, len(dense))
	for l, k := range dense {
		index[k] = l
		updateA(as[l], decay, t.Input(k), n)
		g := gs[l].RawSymmetric()
		for i := 0; i < g.N; i++ {
			row := g.Data[i*g.Stride+i : i*g.Stride+g.N]
			if decay == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= decay
			}
		}
	}
	us, weight := outputVectors(t, y, set)
	for _, u := range us {
		t.BackpropOutput(u, func(k int, g *mat.Dense) {
			if l, ok := index[k]; ok {
				gemm.Syrk(blas.Trans, (1-decay)*weight, g.RawMatrix(), 1, gs[l].RawSymmetric())
			}
		})
	}
}

// updateA stores εA + (1−ε)/n·āᵀā in A, ā = [x | 1], without forming ā:
// the block xᵀx, the column sums of x beside it, and n in the corner.
func updateA(a *mat.SymDense, decay float64, x *mat.Dense, n int) {
	raw := a.RawSymmetric()
	in := raw.N - 1
	w := (1 - decay) / float64(n)
	gemm.Syrk(blas.Trans, w, x.RawMatrix(), decay, blas64.Symmetric{N: in, Stride: raw.Stride, Data: raw.Data, Uplo: blas.Upper})
	xr := x.RawMatrix()
	last := raw.Data[in:]
	for i := 0; i < in; i++ {
		if decay == 0 {
			last[i*raw.Stride] = 0
		} else {
			last[i*raw.Stride] *= decay
		}
	}
	for r := 0; r < n; r++ {
		for i, v := range xr.Data[r*xr.Stride : r*xr.Stride+in] {
			last[i*raw.Stride] += w * v
		}
	}
	corner := &raw.Data[in*raw.Stride+in]
	if decay == 0 {
		*corner = 1
	} else {
		*corner = decay**corner + (1 - decay)
	}
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
