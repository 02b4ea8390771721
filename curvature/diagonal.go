package curvature

import (
	"fmt"

	"github.com/curvkit/curvkit/internal/vec"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Diagonal returns the diagonal of the curvature matrix kind of m at θ on
// the batch, exactly and without forming the matrix.
//
// For an MLP (nn.Affine layers, each followed by at most one nn.Pointwise
// activation, no skip edges), the Hessian, GGN and Fisher diagonals come from the
// per-sample second derivatives M_s,i in each layer's pre-activations:
// entry (o, j) of affine layer l is Σ_i w_i M_s,i[o,o] ā_i[j]² / Σ_i w_i,
// one matrix product per layer. The empirical Fisher, Monte-Carlo Fisher and gradient
// covariance diagonals are means of squared per-sample gradients (centred
// for the covariance). Any other network falls back to P operator
// products.
func (m *Model) Diagonal(kind Kind, theta []float64, b Batch, opt *Options) ([]float64, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	P := m.Net.NumParams()
	n := b.Len()
	diag := make([]float64, P)
	switch kind {
	case Hessian, GGN, Fisher:
		var tl *tally
		if shape, ok := mlpOf(m.Net); ok {
			tl = newTally(opt.progress(), len(shape.dense))
			t, _ := m.tape(theta, b, nil)
			a := newAssembler(shape, t, newOutputCurv(kind, m.Loss, t), kind == Hessian, 0, pool{workers: 1}, newWorkspace(len(shape.dense)))
			for li := range a.layers {
				L := &a.layers[li]
				s := L.q
				hd := mat.NewDense(n, L.out, nil) // M_s,i[o,o]
				a2 := mat.NewDense(n, s, nil)     // ā_i[j]²
				for i := 0; i < n; i++ {
					row := hd.RawRowView(i)
					for o := range row {
						row[o] = L.hrow(o, i, n)[o]
					}
					ar := a2.RawRowView(i)
					for j, v := range L.abar.RawRowView(i) {
						ar[j] = v * v
					}
				}
				out := mat.NewDense(L.out, s, diag[L.lo:L.lo+L.size])
				out.Mul(hd.T(), a2)
				tl.add(1)
			}
			floats.Scale(1/b.weightSum(), diag)
			if vec.AllFinite(diag) {
				return diag, nil
			}
			tl.grow(P)
		} else {
			tl = newTally(opt.progress(), P)
		}
		// Matrix-free products: for networks outside the MLP pattern, and
		// where the Kronecker route overflowed (see Model.Dense).
		op, err := m.Operator(kind, theta, b, opt)
		if err != nil {
			return nil, err
		}
		e, col := make([]float64, P), make([]float64, P)
		for j := range e {
			e[j] = 1
			op.MulVecTo(col, e)
			diag[j] = col[j]
			e[j] = 0
			tl.add(1)
		}
		if err := finiteDiagonal(kind, diag); err != nil {
			return nil, err
		}
		return diag, nil
	case EmpiricalFisher, GradientCovariance, MCFisher:
		var mean []float64
		if kind == GradientCovariance {
			mean = m.meanGradient(theta, b)
		}
		ys := []*mat.Dense{b.Y}
		if kind == MCFisher {
			var err error
			if ys, err = m.sampleTargets(theta, b, opt.samples(), opt); err != nil {
				return nil, err
			}
		}
		tl := newTally(opt.progress(), len(b.chunks())*len(ys))
		m.eachPerSample(theta, b, ys, func(c0, _ int, _ bool, g *mat.Dense) {
			r, _ := g.Dims()
			for i := 0; i < r; i++ {
				row := g.RawRowView(i)
				if mean != nil {
					floats.Sub(row, mean)
				}
				w := b.weight(c0 + i)
				for j, v := range row {
					diag[j] += w * v * v
				}
			}
			tl.add(1)
		})
		floats.Scale(1/(b.weightSum()*float64(len(ys))), diag)
		if err := finiteDiagonal(kind, diag); err != nil {
			return nil, err
		}
		return diag, nil
	}
	return nil, fmt.Errorf("curvature: unknown matrix kind %v", kind)
}

// finiteDiagonal returns an error wrapping ErrNonFinite that names the
// first entry of diag that is NaN or infinite, as Dense does for the whole
// matrix.
func finiteDiagonal(kind Kind, diag []float64) error {
	i := vec.FirstNonFinite(diag)
	if i < 0 {
		return nil
	}
	return fmt.Errorf("curvature: %v diagonal: %w: entry %d is %v", kind, ErrNonFinite, i, diag[i])
}
