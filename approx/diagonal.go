package approx

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Diagonal is the approximation M̃ = diag(d).
type Diagonal struct {
	d []float64
}

var _ Approximation = (*Diagonal)(nil)

// NewDiagonal returns diag(d). d is copied. It returns an error when d is
// empty or not finite, and a *curvature.BudgetError when len(d) exceeds
// budget floats (0: curvature.DefaultBudget; negative: no limit).
func NewDiagonal(d []float64, budget int) (*Diagonal, error) {
	if len(d) == 0 {
		return nil, fmt.Errorf("approx: empty diagonal")
	}
	if err := curvature.CheckFloats("diagonal", len(d), budget); err != nil {
		return nil, err
	}
	if err := checkFiniteVec("diagonal", d); err != nil {
		return nil, err
	}
	return &Diagonal{d: append([]float64(nil), d...)}, nil
}

// DiagonalOf returns the diagonal of m, the exact diagonal approximation of
// m. It returns an error when m is empty or not finite, and a
// *curvature.BudgetError when n exceeds budget floats.
func DiagonalOf(m mat.Symmetric, budget int) (*Diagonal, error) {
	n := m.SymmetricDim()
	d := make([]float64, n)
	for i := range d {
		d[i] = m.At(i, i)
	}
	return NewDiagonal(d, budget)
}

// Dim returns n.
func (a *Diagonal) Dim() int { return len(a.d) }

// Values returns d. It must not be modified.
func (a *Diagonal) Values() []float64 { return a.d }

// MulVecTo stores d ⊙ v in dst.
func (a *Diagonal) MulVecTo(dst, v []float64) {
	checkVecs(dst, v, len(a.d))
	for i, x := range v {
		dst[i] = a.d[i] * x
	}
}

// MulMatTo stores diag(d)·V in dst.
func (a *Diagonal) MulMatTo(dst *mat.Dense, v mat.Matrix) {
	r, c := v.Dims()
	if r != len(a.d) {
		panic("approx: diagonal: matrix dimension mismatch")
	}
	if dst.IsEmpty() {
		dst.ReuseAs(r, c)
	} else if dr, dc := dst.Dims(); dr != r || dc != c {
		panic("approx: diagonal: destination dimension mismatch")
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			dst.Set(i, j, a.d[i]*v.At(i, j))
		}
	}
}

// SolveDampedTo stores v_i/(d_i+λ) in dst.
func (a *Diagonal) SolveDampedTo(dst, v []float64, lambda float64) error {
	checkVecs(dst, v, len(a.d))
	if err := checkLambda(lambda); err != nil {
		return err
	}
	for i, di := range a.d {
		if !(di+lambda > 0) {
			return notPD("diagonal entry %d: d+λ = %v", i, di+lambda)
		}
	}
	for i, x := range v {
		dst[i] = x / (a.d[i] + lambda)
	}
	return nil
}

// Dense returns diag(d).
func (a *Diagonal) Dense() *mat.SymDense {
	n := len(a.d)
	m := mat.NewSymDense(n, nil)
	for i, x := range a.d {
		m.SetSym(i, i, x)
	}
	return m
}

// Trace returns Σ d_i.
func (a *Diagonal) Trace() float64 { return floats.Sum(a.d) }

// LogDet returns Σ log(d_i+λ).
func (a *Diagonal) LogDet(lambda float64) (float64, error) {
	return logDetShiftedValues(a.d, lambda, "diagonal entry")
}

// logDetShiftedValues returns Σ log(x_i + λ) for the eigenvalues x of a
// matrix, or an error naming the first x_i + λ ≤ 0.
func logDetShiftedValues(x []float64, lambda float64, what string) (float64, error) {
	if err := checkLambda(lambda); err != nil {
		return math.NaN(), err
	}
	var ld float64
	for i, v := range x {
		if !(v+lambda > 0) {
			return math.NaN(), notPD("%s %d: %v + λ = %v", what, i, v, v+lambda)
		}
		ld += math.Log(v + lambda)
	}
	return ld, nil
}

// Floats returns n.
func (a *Diagonal) Floats() int { return len(a.d) }
