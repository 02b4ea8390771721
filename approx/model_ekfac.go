package approx

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
)

// EKFACOf returns the EKFAC of m's curvature at θ on the batch, and the
// K-FAC whose eigenbasis it keeps, from one forward pass and one set of
// backpropagated pre-activation gradients: the K-FAC factors of
// KFACFactors (same settings, same sampled labels for MCFactors), then the
// scales re-estimated in their eigenbasis Q_G⊗Q_A (George et al. 2018).
//
// A sample's gradient of layer l is the outer product δ āᵀ of the
// pre-activation gradient and the augmented input, whose coordinates in
// the eigenbasis are (Q_Gᵀδ)_a (Q_Aᵀā)_b, so the scales of a layer are one
// matrix product over the batch,
//
//	S_l = w Σ_u (Δ_u Q_G)^∘2ᵀ (Ā Q_A)^∘2     (p×q, row-major like the layer)
//
// with Δ_u the N×p gradients of backpropagated output vector u (^∘2 squares
// entries) and w the weight of K-FAC's G factor: the columns of the
// output-Hessian factor with w = 1/N for ExactFactors, k sampled labels with
// w = 1/(Nk) for MCFactors, the true labels with w = 1/N for
// EmpiricalFactors. The scales are then the diagonal of Q_lᵀ M_ll Q_l, the
// diagonal in that basis nearest in Frobenius norm to layer l's block of
// the matrix the factors approximate — the GGN (= Fisher) for exact
// factors, the Monte-Carlo Fisher of the same labels, or the empirical
// Fisher — so the EKFAC is never farther from that matrix than the K-FAC.
//
// It stores the δ of every output vector (N·Σ out floats each; C of them
// for exact factors). ks configures the K-FAC, and ks.Budget also bounds
// the EKFAC's Σ p²+q²+pq floats. Every layer with parameters must be
// nn.Dense.
func EKFACOf(m *curvature.Model, theta []float64, b curvature.Batch, fs *FactorSettings, ks *KFACSettings) (*EKFAC, *KFAC, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	t.Forward(theta, b.X)
	return TapeEKFAC(t, b.Y, fs, ks)
}

// TapeEKFAC returns the EKFAC and K-FAC of EKFACOf from a tape that has run
// Forward on a batch whose targets are y (used only by EmpiricalFactors),
// so that an optimizer can share the forward pass. The tape's batch is not
// validated here.
func TapeEKFAC(t *nn.Tape, y *mat.Dense, fs *FactorSettings, ks *KFACSettings) (*EKFAC, *KFAC, error) {
	var set FactorSettings
	if fs != nil {
		set = *fs
	}
	if set.Samples < 0 {
		return nil, nil, fmt.Errorf("approx: %d Monte-Carlo samples; want at least 1", set.Samples)
	}
	if set.Kind < ExactFactors || set.Kind > EmpiricalFactors {
		return nil, nil, fmt.Errorf("approx: unknown K-FAC factor kind %d", set.Kind)
	}
	var kset KFACSettings
	if ks != nil {
		kset = *ks
	}
	dense, err := denseLayers(t.Net)
	if err != nil {
		return nil, nil, err
	}
	n := t.BatchSize()
	us, w := outputVectors(t, y, set)

	// Pass 1: the K-FAC factors, keeping every layer's δ.
	index := make(map[int]int, len(dense))
	abars := make([]*mat.Dense, len(dense))
	deltas := make([][]*mat.Dense, len(dense))
	factors := make([]KronFactors, len(dense))
	gs := make([]*mat.SymDense, len(dense))
	for l, k := range dense {
		index[k] = l
		d := t.Net.Layers[k].(nn.Dense)
		abars[l] = augment(t.Input(k))
		a := mat.NewSymDense(d.In+1, nil)
		updateA(a, 0, t.Input(k), n) // as TapeFactors, to the bit
		gs[l] = mat.NewSymDense(d.Out, nil)
		factors[l] = KronFactors{G: gs[l], A: a}
	}
	for _, u := range us {
		t.BackpropOutput(u, func(k int, g *mat.Dense) {
			if l, ok := index[k]; ok {
				gemm.Syrk(blas.Trans, w, g.RawMatrix(), 1, gs[l].RawSymmetric())
				deltas[l] = append(deltas[l], mat.DenseCopyOf(g))
			}
		})
	}
	kfac, err := NewKFAC(factors, &kset)
	if err != nil {
		return nil, nil, err
	}

	// Pass 2: the scales in the eigenbasis.
	s := make([]float64, kfac.Dim())
	off := 0
	for l := range dense {
		kr := kfac.Layer(l)
		e, err := kr.basis()
		if err != nil {
			return nil, nil, err
		}
		za := mat.NewDense(n, kr.q, nil)
		za.Mul(abars[l], e.qa)
		square(za)
		yg := mat.NewDense(n, kr.p, nil)
		sl := blas64.General{Rows: kr.p, Cols: kr.q, Stride: kr.q, Data: s[off : off+kr.Dim()]}
		for _, delta := range deltas[l] {
			yg.Mul(delta, e.qg)
			square(yg)
			gemm.Gemm(blas.Trans, blas.NoTrans, w, yg.RawMatrix(), za.RawMatrix(), 1, sl)
		}
		off += kr.Dim()
	}
	ek, err := NewEKFAC(kfac, s, kset.Budget)
	if err != nil {
		return nil, nil, err
	}
	return ek, kfac, nil
}

// outputVectors returns the output-space vectors whose backpropagation
// gives the δ of K-FAC's G factors, and the weight of each δδᵀ, in the
// order and with the sampled labels of KFACFactors: the columns of the
// output-Hessian factor S_i, or gradients at k sets of labels drawn
// y ~ p(y|z) one set after another, or the gradient at the true labels.
func outputVectors(t *nn.Tape, y *mat.Dense, set FactorSettings) ([]*mat.Dense, float64) {
	z := t.Z()
	n, C := z.Dims()
	loss := t.Loss
	weight := 1 / float64(n)
	var us []*mat.Dense
	switch set.Kind {
	case ExactFactors:
		sf := mat.NewDense(C, C, nil)
		for c := 0; c < C; c++ {
			us = append(us, mat.NewDense(n, C, nil))
		}
		for i := 0; i < n; i++ {
			loss.Factor(sf, z.RawRowView(i))
			for c, u := range us {
				mat.Col(u.RawRowView(i), c, sf)
			}
		}
	case MCFactors:
		k := max(1, set.Samples)
		rng := set.Rand
		if rng == nil {
			rng = rand.New(rand.NewPCG(set.Seed, 0))
		}
		ys := mat.NewDense(n, loss.TargetDim(C), nil)
		for range k {
			for i := 0; i < n; i++ {
				loss.Sample(ys.RawRowView(i), z.RawRowView(i), rng)
			}
			u := mat.NewDense(n, C, nil)
			loss.Grad(u, z, ys)
			us = append(us, u)
		}
		weight /= float64(k)
	case EmpiricalFactors:
		u := mat.NewDense(n, C, nil)
		loss.Grad(u, z, y)
		us = append(us, u)
	}
	return us, weight
}

// square squares every entry of m in place.
func square(m *mat.Dense) {
	raw := m.RawMatrix()
	for i := 0; i < raw.Rows; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		for j, x := range row {
			row[j] = x * x
		}
	}
}
