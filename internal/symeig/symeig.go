package symeig

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// ErrNoConvergence is returned when the QL iteration does not converge
// (it takes a few sweeps per eigenvalue on finite input).
var ErrNoConvergence = errors.New("symeig: QL iteration did not converge")

// maxSweeps bounds the QL iterations spent on one eigenvalue.
const maxSweeps = 60

// Decompose returns the eigenvalues of the symmetric a in ascending order
// and the matrix whose columns are the corresponding orthonormal
// eigenvectors. It returns an error if a holds NaN or ±Inf.
func Decompose(a mat.Symmetric) ([]float64, *mat.Dense, error) { return decompose(a, true) }

// EigenSym is a stand-in for gonum's mat.EigenSym with the same methods,
// computed by Decompose.
type EigenSym struct {
	values  []float64
	vectors *mat.Dense
	ok      bool
}

// Factorize computes the eigendecomposition of a, with the eigenvectors if
// vectors is set, and reports whether it succeeded (it fails on NaN or
// ±Inf entries).
func (e *EigenSym) Factorize(a mat.Symmetric, vectors bool) bool {
	values, v, err := decompose(a, vectors)
	*e = EigenSym{values: values, vectors: v, ok: err == nil}
	return e.ok
}

// Values stores the eigenvalues in ascending order in dst (a new slice if
// dst is nil) and returns it.
func (e *EigenSym) Values(dst []float64) []float64 {
	if !e.ok {
		panic("symeig: no factorization")
	}
	if dst == nil {
		dst = make([]float64, len(e.values))
	}
	if len(dst) != len(e.values) {
		panic("symeig: wrong length of dst")
	}
	copy(dst, e.values)
	return dst
}

// VectorsTo stores the eigenvectors as the columns of dst, which must be
// empty or n×n.
func (e *EigenSym) VectorsTo(dst *mat.Dense) {
	if !e.ok || e.vectors == nil {
		panic("symeig: no eigenvectors computed")
	}
	n := len(e.values)
	if dst.IsEmpty() {
		dst.ReuseAs(n, n)
	}
	dst.Copy(e.vectors)
}

func decompose(a mat.Symmetric, vectors bool) ([]float64, *mat.Dense, error) {
	n := a.SymmetricDim()
	if n == 0 {
		return nil, &mat.Dense{}, nil
	}
	q := make([]float64, n*n) // A's upper triangle, then Q, row-major
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := a.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("symeig: matrix entry (%d, %d) is %v", i, j, v)
			}
			q[i*n+j] = v
		}
	}
	if n == 1 {
		return []float64{q[0]}, mat.NewDense(1, 1, []float64{1}), nil
	}
	d := make([]float64, n)
	e := make([]float64, n) // e[i] couples d[i] and d[i+1]; e[n−1] = 0
	impl := gonum.Implementation{}
	tau := make([]float64, n-1)
	work := make([]float64, 1)
	impl.Dsytrd(blas.Upper, n, q, n, d, e[:n-1], tau, work, -1)
	if l := int(work[0]); l > len(work) {
		work = make([]float64, l)
	}
	impl.Dsytrd(blas.Upper, n, q, n, d, e[:n-1], tau, work, len(work))
	if !vectors {
		if err := tql2(d, e, nil, n); err != nil {
			return nil, nil, err
		}
		sort.Float64s(d)
		return d, nil, nil
	}
	impl.Dorgtr(blas.Upper, n, q, n, tau, work[:1], -1)
	if l := int(work[0]); l > len(work) {
		work = make([]float64, l)
	}
	impl.Dorgtr(blas.Upper, n, q, n, tau, work, len(work))

	// Vᵀ starts as Qᵀ: row k is Q's column k.
	vt := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			vt[k*n+i] = q[i*n+k]
		}
	}
	if err := tql2(d, e, vt, n); err != nil {
		return nil, nil, err
	}

	// Ascending order; column k of V is row order[k] of Vᵀ.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return d[order[x]] < d[order[y]] })
	values := make([]float64, n)
	v := mat.NewDense(n, n, nil)
	raw := v.RawMatrix()
	for k, src := range order {
		values[k] = d[src]
		for i, x := range vt[src*n : src*n+n] {
			raw.Data[i*raw.Stride+k] = x
		}
	}
	return values, v, nil
}

// tql2 diagonalises the symmetric tridiagonal matrix with diagonal d and
// off-diagonal e (e[i] between i and i+1) by implicit QL steps with
// Wilkinson shifts, leaving the eigenvalues in d and applying every
// rotation to the rows of vt (n×n; nil for the values alone): if vt held
// Qᵀ, it ends holding Vᵀ.
func tql2(d, e, vt []float64, n int) error {
	e[n-1] = 0
	// An off-diagonal entry is negligible against the norm of T (EISPACK's
	// test): a test relative to its neighbours on the diagonal alone never
	// passes beside a repeated zero eigenvalue.
	var norm float64
	for i := 0; i < n; i++ {
		norm = math.Max(norm, math.Abs(d[i])+math.Abs(e[i]))
	}
	tiny := 0x1p-52 * norm
	for l := 0; l < n; l++ {
		for sweep := 0; ; sweep++ {
			// Find the first negligible off-diagonal entry at or after l.
			m := l
			for ; m < n-1; m++ {
				if math.Abs(e[m]) <= tiny {
					break
				}
			}
			if m == l {
				break
			}
			if sweep == maxSweeps {
				return ErrNoConvergence
			}
			// Wilkinson shift from the leading 2×2 block.
			g := (d[l+1] - d[l]) / (2 * e[l])
			r := math.Hypot(g, 1)
			g = d[m] - d[l] + e[l]/(g+math.Copysign(r, g))
			s, c, p := 1.0, 1.0, 0.0
			i := m - 1
			for ; i >= l; i-- {
				f, b := s*e[i], c*e[i]
				r = math.Hypot(f, g)
				e[i+1] = r
				if r == 0 {
					// Underflow: the matrix splits here; deflate and
					// restart the sweep.
					d[i+1] -= p
					e[m] = 0
					break
				}
				s, c = f/r, g/r
				g = d[i+1] - p
				r = (d[i]-g)*s + 2*c*b
				p = s * r
				d[i+1] = g + p
				g = c*r - b
				if vt != nil {
					rotate(vt[i*n:i*n+n], vt[(i+1)*n:(i+1)*n+n], c, s)
				}
			}
			if r == 0 && i >= l {
				continue
			}
			d[l] -= p
			e[l] = g
			e[m] = 0
		}
	}
	return nil
}

// rotateGo is rotate in Go, for the tail of a row and other platforms.
func rotateGo(x, y []float64, c, s float64) {
	y = y[:len(x)]
	for k, xk := range x {
		f := y[k]
		y[k] = s*xk + c*f
		x[k] = c*xk - s*f
	}
}
