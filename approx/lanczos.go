package approx

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/symeig"
)

// lanczosRitz runs m steps of the symmetric Lanczos process on op with
// full reorthogonalisation and returns the Ritz values (the eigenvalues
// of the tridiagonal T = QᵀAQ) in ascending order. The extreme Ritz values
// converge first, to the extreme eigenvalues of op, from inside. When the
// Krylov space becomes invariant the process restarts from a fresh random
// vector orthogonal to it, so m = n gives every eigenvalue. rnd supplies
// the start vectors.
func lanczosRitz(op curvature.Operator, m int, rnd *rand.Rand) ([]float64, error) {
	n := op.Dim()
	m = min(m, n)
	if m <= 0 {
		return nil, fmt.Errorf("approx: Lanczos needs at least one step")
	}
	q := mat.NewDense(m, n, nil) // rows are the Lanczos vectors
	alpha := make([]float64, m)
	beta := make([]float64, m) // beta[j] couples vectors j and j+1
	w := make([]float64, n)
	randomOrthogonal := func(j int) bool {
		for try := 0; try < 5; try++ {
			v := q.RawRowView(j)
			for i := range v {
				v[i] = rnd.NormFloat64()
			}
			for pass := 0; pass < 2; pass++ {
				for i := 0; i < j; i++ {
					qi := q.RawRowView(i)
					floats.AddScaled(v, -floats.Dot(qi, v), qi)
				}
			}
			if nv := floats.Norm(v, 2); nv > 1e-8 {
				floats.Scale(1/nv, v)
				return true
			}
		}
		return false
	}
	if !randomOrthogonal(0) {
		return nil, fmt.Errorf("approx: Lanczos start vector is zero")
	}
	steps := m
	for j := 0; j < m; j++ {
		qj := q.RawRowView(j)
		op.MulVecTo(w, qj)
		alpha[j] = floats.Dot(w, qj)
		if math.IsNaN(alpha[j]) || math.IsInf(alpha[j], 0) {
			return nil, fmt.Errorf("approx: Lanczos met a non-finite product")
		}
		if j == m-1 {
			break
		}
		// Full reorthogonalisation, twice, against every vector so far.
		for pass := 0; pass < 2; pass++ {
			for i := 0; i <= j; i++ {
				qi := q.RawRowView(i)
				floats.AddScaled(w, -floats.Dot(qi, w), qi)
			}
		}
		b := floats.Norm(w, 2)
		scale := math.Max(math.Abs(alpha[j]), 1)
		if b <= 1e-12*scale {
			// Invariant subspace: restart orthogonally, uncoupled.
			beta[j] = 0
			if !randomOrthogonal(j + 1) {
				steps = j + 1
				break
			}
			continue
		}
		beta[j] = b
		copy(q.RawRowView(j+1), w)
		floats.Scale(1/b, q.RawRowView(j+1))
	}
	t := mat.NewSymDense(steps, nil)
	for j := 0; j < steps; j++ {
		t.SetSym(j, j, alpha[j])
		if j+1 < steps {
			t.SetSym(j, j+1, beta[j])
		}
	}
	var es symeig.EigenSym
	if !es.Factorize(t, false) {
		return nil, fmt.Errorf("approx: eigenvalues of the Lanczos tridiagonal failed")
	}
	return es.Values(nil), nil
}

// diffOp is the operator a − b.
type diffOp struct {
	a, b curvature.Operator
	w    []float64
}

func newDiffOp(a, b curvature.Operator) *diffOp {
	if a.Dim() != b.Dim() {
		panic(fmt.Sprintf("approx: comparing operators of dimensions %d and %d", a.Dim(), b.Dim()))
	}
	return &diffOp{a: a, b: b, w: make([]float64, a.Dim())}
}

func (d *diffOp) Dim() int { return d.a.Dim() }

func (d *diffOp) MulVecTo(dst, v []float64) {
	d.a.MulVecTo(dst, v)
	d.b.MulVecTo(d.w, v)
	floats.Sub(dst, d.w)
}
