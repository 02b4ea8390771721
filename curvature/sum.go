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
// For every kind but GradientCovariance, S = Σ_i M_i over the N inputs (and
// over Draws sampled labels each for MCFisher) and the matrix is
// S/(N·Draws). For GradientCovariance, S = Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ is
// centred at the part's own mean and G = Σ_i g_i; merging adds the
// between-part term (Chan, Golub & LeVeque), which keeps the covariance
// accurate when the mean gradient is large.
type Sum struct {
	Kind  Kind
	N     int
	Draws int
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
	if s.Kind == GradientCovariance && s.N > 0 {
		na, nb := float64(s.N), float64(o.N)
		d := make([]float64, len(s.G))
		for j := range d {
			d[j] = o.G[j]/nb - s.G[j]/na
		}
		s.S.SymRankOne(s.S, na*nb/(na+nb), mat.NewVecDense(len(d), d))
	}
	s.S.AddSym(s.S, o.S)
	if s.G != nil {
		floats.Add(s.G, o.G)
	}
	s.N += o.N
	return nil
}

// Mean returns the curvature matrix: S/(N·Draws), or S/N for the gradient
// covariance.
func (s *Sum) Mean() *mat.SymDense {
	var m mat.SymDense
	m.ScaleSym(1/float64(s.N*s.Draws), s.S)
	return &m
}
