package curvature

import (
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Sum is a curvature matrix kept as a sum over samples, so that sums over
// parts of a batch — batches that arrive one at a time, or other machines —
// merge into the sum over the whole batch without changing the maths.
//
// For every kind but GradientCovariance, S = Σ_i w_i M_i over the N inputs
// of weights w_i (and over Draws sampled labels each for MCFisher) and the
// matrix is S/(W·Draws), W = Σ_i w_i. For GradientCovariance,
// S = Σ_i w_i (g_i − ḡ)(g_i − ḡ)ᵀ is centred at the part's own weighted mean
// ḡ and G = Σ_i w_i g_i; merging adds the between-part term (Chan, Golub &
// LeVeque), which keeps the covariance accurate when the mean gradient is
// large.
type Sum struct {
	Kind  Kind
	N     int
	Draws int
	W     float64 // Σ_i w_i over the N samples: N for uniform weights
	S     *mat.SymDense
	G     []float64
}

// Merge adds o, a sum of the same kind and size over other samples, to s.
func (s *Sum) Merge(o *Sum) error {
	if o.Kind != s.Kind || o.Draws != s.Draws || o.S.SymmetricDim() != s.S.SymmetricDim() {
		return fmt.Errorf("curvature: cannot merge a %v sum of order %d (%d draws) into a %v sum of order %d (%d draws)",
			o.Kind, o.S.SymmetricDim(), o.Draws, s.Kind, s.S.SymmetricDim(), s.Draws)
	}
	if o.N == 0 {
		return nil
	}
	wa, wb := s.W, o.W
	if s.Kind == GradientCovariance && wa > 0 && wb > 0 {
		d := make([]float64, len(s.G))
		for j := range d {
			d[j] = o.G[j]/wb - s.G[j]/wa
		}
		s.S.SymRankOne(s.S, wa*wb/(wa+wb), mat.NewVecDense(len(d), d))
	}
	s.S.AddSym(s.S, o.S)
	if s.G != nil {
		floats.Add(s.G, o.G)
	}
	s.N += o.N
	s.W = wa + wb
	return nil
}

// Mean returns the curvature matrix: S/(W·Draws), or S/W for the gradient
// covariance.
func (s *Sum) Mean() *mat.SymDense {
	var m mat.SymDense
	m.ScaleSym(1/(s.W*float64(s.Draws)), s.S)
	return &m
}
