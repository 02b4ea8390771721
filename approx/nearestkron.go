package approx

import (
	"cmp"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// NearestKronMethod selects how NearestKroneckerOf finds the top singular
// pair of the rearranged block.
type NearestKronMethod int

const (
	// KronPower is power iteration on R(M)ᵀR(M), alternating least-squares
	// updates of G and A: O(P²) per iteration, no memory beyond the block.
	KronPower NearestKronMethod = iota
	// KronSVD takes the SVD of R(M): exact, for small blocks.
	KronSVD
)

// NearestKronSettings configure NearestKroneckerOf and
// ModelNearestKronecker.
type NearestKronSettings struct {
	Method NearestKronMethod
	// MaxIter bounds the power iterations (0: 500); every iteration lowers
	// the error, so the pair reached is still a valid approximation.
	MaxIter int
	// Tol stops the power iteration when σ grows by less than Tol·σ (0:
	// 1e-13).
	Tol  float64
	Kron KronSettings // the blocks' settings; Kron.Budget bounds the factors
}

func (s *NearestKronSettings) check() error {
	if s.MaxIter < 0 || s.Tol < 0 || math.IsNaN(s.Tol) {
		return fmt.Errorf("approx: nearest Kronecker MaxIter %d and Tol %v must be ≥ 0", s.MaxIter, s.Tol)
	}
	if s.Method != KronPower && s.Method != KronSVD {
		return fmt.Errorf("approx: unknown nearest Kronecker method %d", s.Method)
	}
	return s.Kron.check()
}

// NearestKroneckerOf returns the block diagonal of the G_l⊗A_l nearest in
// Frobenius norm to m's diagonal blocks on the layers of shapes (Van Loan &
// Pitsianis 1993): ‖B − G⊗A‖_F² = ‖B‖_F² − σ² for the top singular value σ
// of R(B). Both factors are positive semi-definite when B is, ‖G‖_F = ‖A‖_F.
func NearestKroneckerOf(m mat.Symmetric, shapes []KronShape, s *NearestKronSettings) (*BlockDiagonal, error) {
	var set NearestKronSettings
	if s != nil {
		set = *s
	}
	if err := set.check(); err != nil {
		return nil, err
	}
	if len(shapes) == 0 {
		return nil, fmt.Errorf("approx: nearest Kronecker with no layers")
	}
	total, floats := 0, 0
	for l, sh := range shapes {
		if sh.G <= 0 || sh.A <= 0 {
			return nil, fmt.Errorf("approx: layer %d has shape %+v", l, sh)
		}
		total += sh.G * sh.A
		floats += sh.G*sh.G + sh.A*sh.A
	}
	if total != m.SymmetricDim() {
		return nil, fmt.Errorf("approx: shapes cover %d parameters, matrix has order %d", total, m.SymmetricDim())
	}
	if err := curvature.CheckFloats("Kronecker factors", floats, set.Kron.Budget); err != nil {
		return nil, err
	}
	blocks := make([]Approximation, len(shapes))
	sizes := make([]int, len(shapes))
	off := 0
	for l, sh := range shapes {
		n := sh.G * sh.A
		k, err := nearestKron(m, off, sh, &set)
		if err != nil {
			return nil, fmt.Errorf("approx: layer %d: %w", l, err)
		}
		blocks[l], sizes[l] = k, n
		off += n
	}
	return NewBlockDiagonal(blocks, Ranges(sizes...))
}

// nearestKron returns the Kronecker product of shape sh nearest m's
// diagonal block at offset off.
func nearestKron(m mat.Symmetric, off int, sh KronShape, set *NearestKronSettings) (*Kron, error) {
	n := sh.G * sh.A
	blk := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			x := m.At(off+i, off+j)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("matrix entry %d,%d = %v is not finite", off+i, off+j, x)
			}
			blk[i*n+j], blk[j*n+i] = x, x
		}
	}
	var g, a *mat.SymDense
	var err error
	if set.Method == KronSVD {
		g, a, err = nearestKronSVD(blk, sh.G, sh.A)
	} else {
		g, a = nearestKronPower(blk, sh.G, sh.A, set.MaxIter, set.Tol)
	}
	if err != nil {
		return nil, err
	}
	normalizeKron(g, a)
	ks := set.Kron
	ks.Budget = curvature.Unlimited // the factors of every layer were checked together
	return NewKron(g, a, &ks)
}

// nearestKronPower runs alternating least squares on the row-major
// P×P block b, P = p·q:
//
//	G[o,o'] = ⟨B_oo', A⟩/‖A‖²,  A = Σ_oo' G[o,o'] B_oo' / ‖G‖²,
//
// B_oo' the q×q sub-block, from A = Σ_o B_oo (the partial trace, which is
// K-FAC-like and positive semi-definite when B is).
func nearestKronPower(b []float64, p, q, maxIter int, tol float64) (*mat.SymDense, *mat.SymDense) {
	maxIter = cmp.Or(maxIter, 500)
	tol = cmp.Or(tol, 1e-13)
	n := p * q
	g := make([]float64, p*p)
	a := make([]float64, q*q)
	for o := 0; o < p; o++ {
		for j := 0; j < q; j++ {
			row := b[(o*q+j)*n+o*q:]
			for j2 := 0; j2 < q; j2++ {
				a[j*q+j2] += row[j2]
			}
		}
	}
	if norm2(a) == 0 {
		// Start from the largest sub-block instead, symmetrised.
		best, bo, bo2 := -1.0, 0, 0
		for o := 0; o < p; o++ {
			for o2 := 0; o2 < p; o2++ {
				var s float64
				for j := 0; j < q; j++ {
					for j2 := 0; j2 < q; j2++ {
						x := b[(o*q+j)*n+o2*q+j2] + b[(o*q+j2)*n+o2*q+j]
						s += x * x
					}
				}
				if s > best {
					best, bo, bo2 = s, o, o2
				}
			}
		}
		for j := 0; j < q; j++ {
			for j2 := 0; j2 < q; j2++ {
				a[j*q+j2] = b[(bo*q+j)*n+bo2*q+j2] + b[(bo*q+j2)*n+bo2*q+j]
			}
		}
	}
	sigma := 0.0
	for it := 0; it < maxIter; it++ {
		na := norm2(a)
		if na == 0 {
			break
		}
		for o := 0; o < p; o++ {
			for o2 := o; o2 < p; o2++ {
				var s float64
				for j := 0; j < q; j++ {
					row := b[(o*q+j)*n+o2*q : (o*q+j)*n+o2*q+q]
					ar := a[j*q : j*q+q]
					for j2, x := range row {
						s += x * ar[j2]
					}
				}
				g[o*p+o2], g[o2*p+o] = s/na, s/na
			}
		}
		ng := norm2(g)
		if ng == 0 {
			for i := range a {
				a[i] = 0
			}
			break
		}
		for i := range a {
			a[i] = 0
		}
		for o := 0; o < p; o++ {
			for o2 := 0; o2 < p; o2++ {
				w := g[o*p+o2] / ng
				if w == 0 {
					continue
				}
				for j := 0; j < q; j++ {
					row := b[(o*q+j)*n+o2*q : (o*q+j)*n+o2*q+q]
					ar := a[j*q : j*q+q]
					for j2, x := range row {
						ar[j2] += w * x
					}
				}
			}
		}
		// σ = ‖R(B)ᵀ ĝ‖ with ĝ = G/‖G‖ is ‖G‖·‖A‖ after this update, and
		// never decreases.
		next := math.Sqrt(ng * norm2(a))
		if next-sigma <= tol*next {
			break
		}
		sigma = next
	}
	return symFromRowMajor(g, p), symFromRowMajor(a, q)
}

// nearestKronSVD takes the top singular pair of R(B), formed explicitly.
func nearestKronSVD(b []float64, p, q int) (*mat.SymDense, *mat.SymDense, error) {
	n := p * q
	r := mat.NewDense(p*p, q*q, nil)
	for o := 0; o < p; o++ {
		for o2 := 0; o2 < p; o2++ {
			row := r.RawRowView(o*p + o2)
			for j := 0; j < q; j++ {
				copy(row[j*q:j*q+q], b[(o*q+j)*n+o2*q:(o*q+j)*n+o2*q+q])
			}
		}
	}
	var svd mat.SVD
	if !svd.Factorize(r, mat.SVDThin) {
		return nil, nil, fmt.Errorf("approx: SVD of the rearranged block failed")
	}
	sigma := svd.Values(nil)[0]
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	g := make([]float64, p*p)
	a := make([]float64, q*q)
	for i := range g {
		g[i] = sigma * u.At(i, 0)
	}
	for i := range a {
		a[i] = v.At(i, 0)
	}
	return symFromRowMajor(g, p), symFromRowMajor(a, q), nil
}

// normalizeKron flips the signs of both factors so that tr A ≥ 0 (tr G ≥ 0
// when tr A = 0) and splits the scale so that ‖G‖_F = ‖A‖_F, which leaves
// G⊗A unchanged.
func normalizeKron(g, a *mat.SymDense) {
	ta, tg := symTrace(a), symTrace(g)
	if ta < 0 || (ta == 0 && tg < 0) {
		g.ScaleSym(-1, g)
		a.ScaleSym(-1, a)
	}
	ng, na := mat.Norm(g, 2), mat.Norm(a, 2)
	if ng == 0 || na == 0 {
		return
	}
	c := math.Sqrt(na / ng)
	g.ScaleSym(c, g)
	a.ScaleSym(1/c, a)
}

func norm2(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// symFromRowMajor returns (X + Xᵀ)/2 for the row-major n×n x.
func symFromRowMajor(x []float64, n int) *mat.SymDense {
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, 0.5*(x[i*n+j]+x[j*n+i]))
		}
	}
	return s
}
