package randmat

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Vec returns n independent N(0, 1) draws of rnd, in order.
func Vec(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rnd.NormFloat64()
	}
	return v
}

// Orthogonal returns a random n×n orthogonal matrix: the Q of the QR
// factorisation of a matrix of N(0, 1) entries, drawn row by row.
func Orthogonal(rnd *rand.Rand, n int) *mat.Dense {
	g := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			g.Set(i, j, rnd.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// SymFromEig returns A = Q diag(vals) Qᵀ, symmetrised against rounding, for
// a random orthogonal Q (Orthogonal), and Q: the eigenvalues of A are vals
// and its eigenvectors the columns of Q.
func SymFromEig(rnd *rand.Rand, vals []float64) (*mat.SymDense, *mat.Dense) {
	n := len(vals)
	q := Orthogonal(rnd, n)
	var t, full mat.Dense
	t.Mul(q, mat.NewDiagDense(n, vals))
	full.Mul(&t, q.T())
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, 0.5*(full.At(i, j)+full.At(j, i)))
		}
	}
	return a, q
}

// Shifted returns a new M + sI: the damped matrix the tests' dense
// references factorise or multiply by.
func Shifted(m mat.Symmetric, s float64) *mat.SymDense {
	n := m.SymmetricDim()
	a := mat.NewSymDense(n, nil)
	a.CopySym(m)
	for i := 0; i < n; i++ {
		a.SetSym(i, i, a.At(i, i)+s)
	}
	return a
}
