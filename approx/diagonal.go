package approx

import (
	"fmt"
	"math"
	"math/rand/v2"

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
// budget floats (budget ≤ 0 means no limit).
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

// HutchinsonSettings configure HutchinsonDiagonal.
type HutchinsonSettings struct {
	// Products is the number of probe vectors, each one product with the
	// operator. The estimate's variance falls as 1/Products. If Products
	// is 0, it is defaulted to 100.
	Products int
	// Batch is the number of probes multiplied at once through
	// curvature.MulMatTo (one MulMatTo call when the operator implements
	// curvature.MatMuler). If Batch is 0, it is defaulted to 16.
	Batch int
	// Budget is the most floats the result and its n×Batch work space may
	// hold; ≤ 0 means no limit.
	Budget int
}

// HutchinsonDiagonal estimates diag(M) of any operator from Rademacher
// probes z (entries ±1 with equal probability, drawn from rnd):
//
//	d̂ = (1/S) Σ_s z_s ⊙ (M z_s),
//
// which is unbiased, with Var(d̂_i) = (1/S) Σ_{j≠i} M_ij² (Bekas, Kokiopoulou
// & Saad 2007). The same rnd state gives the same estimate.
func HutchinsonDiagonal(op curvature.Operator, s *HutchinsonSettings, rnd *rand.Rand) (*Diagonal, error) {
	var set HutchinsonSettings
	if s != nil {
		set = *s
	}
	if set.Products < 0 || set.Batch < 0 {
		return nil, fmt.Errorf("approx: Hutchinson products %d and batch %d must be ≥ 0", set.Products, set.Batch)
	}
	if set.Products == 0 {
		set.Products = 100
	}
	if set.Batch == 0 {
		set.Batch = 16
	}
	n := op.Dim()
	if n == 0 {
		return nil, fmt.Errorf("approx: Hutchinson on an empty operator")
	}
	b := min(set.Batch, set.Products)
	if err := curvature.CheckFloats("Hutchinson diagonal", n+2*n*b, set.Budget); err != nil {
		return nil, err
	}
	d := make([]float64, n)
	z := mat.NewDense(n, b, nil)
	mz := mat.NewDense(n, b, nil)
	for done := 0; done < set.Products; {
		k := min(b, set.Products-done)
		zk := z.Slice(0, n, 0, k).(*mat.Dense)
		mzk := mz.Slice(0, n, 0, k).(*mat.Dense)
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				if rnd.Uint64()&1 == 0 {
					zk.Set(i, j, 1)
				} else {
					zk.Set(i, j, -1)
				}
			}
		}
		curvature.MulMatTo(mzk, op, zk)
		for i := 0; i < n; i++ {
			zr, mr := zk.RawRowView(i), mzk.RawRowView(i)
			for j := 0; j < k; j++ {
				d[i] += zr[j] * mr[j]
			}
		}
		done += k
	}
	for i := range d {
		d[i] /= float64(set.Products)
	}
	if err := checkFiniteVec("Hutchinson estimate", d); err != nil {
		return nil, err
	}
	return &Diagonal{d: d}, nil
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
func (a *Diagonal) Trace() float64 {
	var t float64
	for _, x := range a.d {
		t += x
	}
	return t
}

// LogDet returns Σ log(d_i+λ).
func (a *Diagonal) LogDet(lambda float64) (float64, error) {
	if err := checkLambda(lambda); err != nil {
		return 0, err
	}
	var s float64
	for i, x := range a.d {
		if !(x+lambda > 0) {
			return 0, notPD("diagonal entry %d: d+λ = %v", i, x+lambda)
		}
		s += math.Log(x + lambda)
	}
	return s, nil
}

// Floats returns n.
func (a *Diagonal) Floats() int { return len(a.d) }
