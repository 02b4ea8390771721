package curvature

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// GradientStats are the first-order statistics of a batch that BackPACK's
// extensions give, with g_i = ∇_θ ℓ_i the per-sample gradients at the true
// labels, w_i the sample weights (1 without), W = Σ_i w_i and ḡ the
// weighted mean of the g_i:
//
//	Grad        ḡ = Σ_i w_i g_i / W, the gradient of the batch loss
//	NormsSq     ‖g_i‖², one per sample, unweighted
//	SumSquared  Σ_i w_i g_i ⊙ g_i, per parameter (W times the empirical Fisher's diagonal)
//	Variance    Σ_i w_i (g_i − ḡ) ⊙ (g_i − ḡ) / W, per parameter (the gradient covariance's diagonal)
type GradientStats struct {
	Grad, NormsSq, SumSquared, Variance []float64
}

// GradientStats returns the statistics of the batch at θ from the
// per-sample gradients of one backward pass, formed a chunk of samples at
// a time (at most 256 rows of P floats, checked against opt.Budget).
func (m *Model) GradientStats(theta []float64, b Batch, opt *Options) (*GradientStats, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	n, P := b.Len(), m.Net.NumParams()
	if err := CheckFloats("per-sample gradients", min(n, chunk)*P, opt.budget()); err != nil {
		return nil, err
	}
	s := &GradientStats{Grad: make([]float64, P), NormsSq: make([]float64, n), SumSquared: make([]float64, P), Variance: make([]float64, P)}
	t := nn.NewTape(m.Net, m.Loss)
	per := mat.NewDense(min(n, chunk), P, nil)
	mean := make([]float64, P)
	// The variance as a weighted sum of squared deviations M2, per chunk
	// about the chunk's own weighted mean and merged exactly (Chan, Golub &
	// LeVeque), which stays accurate where the mean gradient is large.
	done := 0.0 // the weight merged so far
	for c0 := 0; c0 < n; c0 += chunk {
		c1 := min(c0+chunk, n)
		part := rows(b, c0, c1)
		g := per.Slice(0, c1-c0, 0, P).(*mat.Dense)
		t.Forward(theta, part.X)
		t.Backward(nil, g, part.Y)
		clear(mean)
		for i := 0; i < c1-c0; i++ {
			row := g.RawRowView(i)
			w := b.weight(c0 + i)
			floats.AddScaled(mean, w, row)
			var nsq float64
			for j, v := range row {
				s.SumSquared[j] += w * v * v
				nsq += v * v
			}
			s.NormsSq[c0+i] = nsq
		}
		nb := part.weightSum()
		if nb == 0 {
			continue // the chunk weighs nothing
		}
		floats.Scale(1/nb, mean)
		for i := 0; i < c1-c0; i++ {
			w := b.weight(c0 + i)
			for j, v := range g.RawRowView(i) {
				d := v - mean[j]
				s.Variance[j] += w * d * d
			}
		}
		if done > 0 {
			na := done
			w := na * nb / (na + nb)
			for j := range mean {
				d := mean[j] - s.Grad[j]
				s.Variance[j] += w * d * d
				s.Grad[j] += d * nb / (na + nb)
			}
		} else {
			copy(s.Grad, mean)
		}
		done += nb
	}
	floats.Scale(1/done, s.Variance)
	if !finiteAll(s.Grad, s.NormsSq, s.SumSquared, s.Variance) {
		return nil, fmt.Errorf("curvature: gradient statistics: %w", ErrNonFinite)
	}
	return s, nil
}

// GGNFactor returns V with V Vᵀ equal to the GGN (kind GGN), the Fisher
// (kind Fisher) or the Monte-Carlo Fisher of opt's sampled labels (kind
// MCFisher), P×(N·c): column i·c + k is √(w_i/(W·draws)) J_iᵀ u_ik
// (W = Σ_i w_i, draws = 1 but for MCFisher), with u_ik the k-th column of
// the output-Hessian factor S_i (S_i S_iᵀ = H_z,i, c = outputs), of the
// output Fisher's factor for an nn.FisherLoss's Fisher, or the loss
// gradient at the k-th sampled label (c = opt.Samples), each column
// backpropagated once. A GGN whose output Hessian factors have negative
// columns (a loss that is not convex in z, such as nn.GaussianNLL) is
// indefinite and has no such V: that is an error. It refuses, before
// allocating, a factor of more floats than opt.Budget.
func (m *Model) GGNFactor(kind Kind, theta []float64, b Batch, opt *Options) (*mat.Dense, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if kind != GGN && kind != Fisher && kind != MCFisher {
		return nil, fmt.Errorf("curvature: no square-root factor for %v (want GGN, Fisher or MCFisher)", kind)
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	n, P, C := b.Len(), m.Net.NumParams(), m.Net.OutSize()
	c := C
	if kind == MCFisher {
		c = opt.samples()
	}
	if err := CheckFloats(fmt.Sprintf("%v factor", kind), P*n*c, opt.budget()); err != nil {
		return nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	z := t.Forward(theta, b.X)
	us := make([]*mat.Dense, c)
	if kind == MCFisher {
		ys, err := m.sampleTargets(theta, b, c, opt)
		if err != nil {
			return nil, err
		}
		for k, y := range ys {
			us[k] = mat.NewDense(n, C, nil)
			m.Loss.Grad(us[k], z, y)
		}
	} else {
		S := mat.NewDense(C, C, nil)
		for k := range us {
			us[k] = mat.NewDense(n, C, nil)
		}
		f, fisher := m.Loss.(nn.FisherLoss)
		fisher = fisher && kind == Fisher
		for i := 0; i < n; i++ {
			if fisher {
				f.FisherFactor(S, z.RawRowView(i))
			} else if neg := m.Loss.Factor(S, z.RawRowView(i), b.Y.RawRowView(i)); neg > 0 {
				return nil, fmt.Errorf("curvature: the GGN of %s is indefinite (the output Hessian factor of sample %d has %d negative columns), so no V has V Vᵀ = G; the Fisher has one", m.Loss.Name(), i, neg)
			}
			for k, u := range us {
				mat.Col(u.RawRowView(i), k, S)
			}
		}
	}
	// Per-sample VJPs of each column: one backward pass per column gives
	// the rows J_iᵀ u_ik of all samples at once.
	V := mat.NewDense(P, n*c, nil)
	per := mat.NewDense(n, P, nil)
	draws := 1.0
	if kind == MCFisher {
		draws = float64(c)
	}
	wsum := b.weightSum()
	for k, u := range us {
		t.PerSampleVJP(per, u)
		for i := 0; i < n; i++ {
			col := i*c + k
			scale := math.Sqrt(b.weight(i) / (wsum * draws))
			for j, v := range per.RawRowView(i) {
				V.Set(j, col, scale*v)
			}
		}
	}
	if !finiteAll(V.RawMatrix().Data) {
		return nil, fmt.Errorf("curvature: %v factor: %w", kind, ErrNonFinite)
	}
	return V, nil
}

// finiteAll reports whether every value of every slice is finite.
func finiteAll(vs ...[]float64) bool {
	for _, v := range vs {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
	}
	return true
}
