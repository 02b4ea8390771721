package curvature

import (
	"fmt"
	"math"

	"github.com/curvkit/curvkit/curvature/nn"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Dense returns the curvature matrix kind of m at θ on the batch, P×P.
//
// Hessian, GGN and Fisher are assembled from per-sample Kronecker structure
// when the network is an MLP of Dense and Elementwise layers (one matrix
// product with inner dimension N per pair of layers, using symmetry), and
// from matrix-free products otherwise. The empirical Fisher, the gradient
// covariance and the Monte-Carlo Fisher are Gram matrices of per-sample
// gradients from one backward pass. Before anything is built, P² is checked
// against opt.Budget.
func (m *Model) Dense(kind Kind, theta []float64, b Batch, opt *Options) (*mat.SymDense, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	P := m.Net.NumParams()
	if err := CheckBudget(kind.String(), P, opt.budget()); err != nil {
		return nil, err
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	switch kind {
	case Hessian, GGN, Fisher:
		t, _ := m.tape(theta, b, nil)
		s, ok := mlpOf(m.Net)
		if !ok {
			op, err := m.Operator(kind, theta, b, opt)
			if err != nil {
				return nil, err
			}
			return Materialize(op, 0)
		}
		a := newAssembler(s, t, m.Loss, kind == Hessian, 0)
		dst := mat.NewSymDense(P, nil)
		for mi := range s.dense {
			for l := 0; l <= mi; l++ {
				writeBlock(dst, a.layers[mi].lo, a.layers[l].lo, a.block(mi, l, kind == Hessian))
			}
		}
		return dst, nil
	case MCFisher, EmpiricalFisher, GradientCovariance:
		g, err := m.gradientRows(kind, theta, b, opt, 0, P)
		if err != nil {
			return nil, err
		}
		return gram(g), nil
	}
	return nil, fmt.Errorf("curvature: unknown matrix kind %v", kind)
}

// Block returns layer block k of the curvature matrix kind (k indexes
// ParamBlocks), without forming the rest of the matrix.
func (m *Model) Block(kind Kind, k int, theta []float64, b Batch, opt *Options) (*mat.SymDense, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	blocks := m.ParamBlocks()
	if k < 0 || k >= len(blocks) {
		return nil, fmt.Errorf("curvature: layer block %d out of range [0, %d)", k, len(blocks))
	}
	lo, hi := blocks[k][0], blocks[k][1]
	if err := CheckBudget(fmt.Sprintf("%v block %d", kind, k), hi-lo, opt.budget()); err != nil {
		return nil, err
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	switch kind {
	case Hessian, GGN, Fisher:
		s, ok := mlpOf(m.Net)
		if !ok {
			op, err := m.Operator(kind, theta, b, opt)
			if err != nil {
				return nil, err
			}
			return Materialize(restrict(op, lo, hi), 0)
		}
		t, _ := m.tape(theta, b, nil)
		a := newAssembler(s, t, m.Loss, kind == Hessian, k)
		dst := mat.NewSymDense(hi-lo, nil)
		writeBlock(dst, 0, 0, a.block(k, k, false))
		return dst, nil
	case MCFisher, EmpiricalFisher, GradientCovariance:
		g, err := m.gradientRows(kind, theta, b, opt, lo, hi)
		if err != nil {
			return nil, err
		}
		return gram(g), nil
	}
	return nil, fmt.Errorf("curvature: unknown matrix kind %v", kind)
}

// gradientRows returns, for the Gram-type kinds, the rows r_j (columns lo:hi)
// with matrix = Σ_j r_j r_jᵀ: g_i/√N for the empirical Fisher, (g_i − ḡ)/√N
// for the gradient covariance, and sampled-label gradients/√(Nk) for the
// Monte-Carlo Fisher.
func (m *Model) gradientRows(kind Kind, theta []float64, b Batch, opt *Options, lo, hi int) (*mat.Dense, error) {
	n := b.Len()
	P := m.Net.NumParams()
	switch kind {
	case EmpiricalFisher, GradientCovariance:
		per := mat.NewDense(n, P, nil)
		if _, err := m.tape(theta, b, per); err != nil {
			return nil, err
		}
		if kind == GradientCovariance {
			center(per)
		}
		rows := mat.DenseCopyOf(per.Slice(0, n, lo, hi))
		rows.Scale(1/math.Sqrt(float64(n)), rows)
		return rows, nil
	case MCFisher:
		k := opt.samples()
		y, err := m.sampleTargets(theta, b, k, opt)
		if err != nil {
			return nil, err
		}
		t := nn.NewTape(m.Net, m.Loss)
		rows := mat.NewDense(n*k, hi-lo, nil)
		per := mat.NewDense(n, P, nil)
		for s := 0; s < k; s++ {
			t.Forward(theta, b.X)
			t.Backward(nil, per, y[s])
			rows.Slice(s*n, (s+1)*n, 0, hi-lo).(*mat.Dense).Copy(per.Slice(0, n, lo, hi))
		}
		rows.Scale(1/math.Sqrt(float64(n*k)), rows)
		return rows, nil
	}
	panic("curvature: not a Gram-type kind")
}

// sampleTargets draws k target matrices y ~ p(y|z) at θ.
func (m *Model) sampleTargets(theta []float64, b Batch, k int, opt *Options) ([]*mat.Dense, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	rng := opt.rng()
	n := b.Len()
	t := nn.NewTape(m.Net, m.Loss)
	z := t.Forward(theta, b.X)
	td := m.Loss.TargetDim(m.Net.OutSize())
	ys := make([]*mat.Dense, k)
	for s := range ys {
		y := mat.NewDense(n, td, nil)
		for i := 0; i < n; i++ {
			m.Loss.Sample(y.RawRowView(i), z.RawRowView(i), rng)
		}
		ys[s] = y
	}
	return ys, nil
}

// center subtracts the column means from every row.
func center(g *mat.Dense) {
	n, p := g.Dims()
	mean := make([]float64, p)
	for i := 0; i < n; i++ {
		for j, v := range g.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		row := g.RawRowView(i)
		for j := range row {
			row[j] -= mean[j]
		}
	}
}

// gram returns rowsᵀ rows, one symmetric rank-k update.
func gram(rows *mat.Dense) *mat.SymDense {
	_, p := rows.Dims()
	dst := mat.NewSymDense(p, nil)
	blas64.Syrk(blas.Trans, 1, rows.RawMatrix(), 0, dst.RawSymmetric())
	return dst
}
