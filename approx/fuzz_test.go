package approx

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/randmat"
)

// fuzzSym builds a symmetric n×n matrix, n in 1..6, from bytes: entries
// are signed bytes / 16, so singular, indefinite and zero matrices all
// occur.
func fuzzSym(data []byte) *mat.SymDense {
	if len(data) == 0 {
		return nil
	}
	n := 1 + int(data[0])%6
	data = data[1:]
	m := mat.NewSymDense(n, nil)
	k := 0
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			var b byte
			if k < len(data) {
				b = data[k]
			}
			k++
			m.SetSym(i, j, float64(int8(b))/16)
		}
	}
	return m
}

// checkSolve fails unless err is a clean refusal or x solves a·x = v to
// backward-stable accuracy.
func checkSolve(t *testing.T, what string, a mat.Symmetric, x, v []float64, lambda float64, err error) {
	t.Helper()
	if err != nil {
		if errors.Is(err, curvature.ErrNotPositiveDefinite) || checkLambda(lambda) != nil {
			return
		}
		t.Fatalf("%s: unexpected error %v", what, err)
	}
	n := len(v)
	for _, xi := range x {
		if math.IsNaN(xi) || math.IsInf(xi, 0) {
			t.Fatalf("%s: non-finite solution %v", what, x)
		}
	}
	s := randmat.Shifted(a, lambda)
	r := mat.NewVecDense(n, nil)
	r.MulVec(s, mat.NewVecDense(n, x))
	r.SubVec(r, mat.NewVecDense(n, v))
	bound := 1e-7 * (mat.Norm(s, 2)*mat.Norm(mat.NewVecDense(n, x), 2) + mat.Norm(mat.NewVecDense(n, v), 2))
	if res := mat.Norm(r, 2); res > bound {
		t.Fatalf("%s: residual %v > %v (λ=%v, x=%v)", what, res, bound, lambda, x)
	}
}

// FuzzDampedSolves runs every approximation's damped solve on arbitrary
// small symmetric matrices and damping: each must refuse with an error
// or return a solution of the system it claims to solve, never panic.
func FuzzDampedSolves(f *testing.F) {
	f.Add([]byte{2, 16, 0, 16}, 0.0)
	f.Add([]byte{3, 16, 1, 2, 240, 3, 16}, 0.5)
	f.Add([]byte{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 1e-3)
	f.Add([]byte{3}, 1.0)
	f.Add([]byte{4, 255, 128, 127, 0}, -1.0)
	f.Add([]byte{1, 200}, math.NaN())
	f.Fuzz(func(t *testing.T, data []byte, lambda float64) {
		m := fuzzSym(data)
		if m == nil {
			return
		}
		n := m.SymmetricDim()
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i) - 1.5
		}
		x := make([]float64, n)

		if d, err := DiagonalOf(m, 0); err == nil {
			checkSolve(t, "diagonal", d.Dense(), x, v, lambda, d.SolveDampedTo(x, v, lambda))
		}
		if s, err := NewSymMatrix(m, 0); err == nil {
			checkSolve(t, "dense", m, x, v, lambda, s.SolveDampedTo(x, v, lambda))
			_, _ = s.LogDet(lambda)
		}
		half := n / 2
		idx := Ranges(n - half)
		if half > 0 {
			idx = Ranges(half, n-half)
		}
		if bd, err := BlockDiagonalOf(m, idx, 0); err == nil {
			checkSolve(t, "block diagonal", bd.Dense(), x, v, lambda, bd.SolveDampedTo(x, v, lambda))
			_, _ = bd.LogDet(lambda)
		}

		// Kronecker blocks: G = m, A = its leading block.
		q := max(1, n-1)
		a := m.SliceSym(0, q)
		kv := make([]float64, n*q)
		for i := range kv {
			kv[i] = math.Sin(float64(i))
		}
		kx := make([]float64, n*q)
		for _, s := range []KronSettings{{}, {Damping: FactoredDamping}, {Damping: FactoredDamping, Solver: CholeskySolver}} {
			k, err := NewKron(m, a, &s)
			if err != nil {
				continue
			}
			err = k.SolveDampedTo(kx, kv, lambda)
			if s.Damping == ExactDamping {
				checkSolve(t, "kron exact", k.Dense(), kx, kv, lambda, err)
			} else if checkLambda(lambda) == nil {
				sg, sa := k.factoredShifts(lambda)
				fd, _ := NewKron(shiftedSym(k.g, sg), shiftedSym(k.a, sa), nil)
				if fd != nil {
					checkSolve(t, "kron factored", fd.Dense(), kx, kv, 0, err)
				}
			}
			_, _ = k.LogDet(lambda)
		}

		// Nearest Kronecker and EKFAC on m seen as one 1×n layer, or 2×(n/2).
		shape := KronShape{G: 1, A: n}
		if n%2 == 0 {
			shape = KronShape{G: 2, A: n / 2}
		}
		for _, method := range []NearestKronMethod{KronPower, KronSVD} {
			nk, err := NearestKroneckerOf(m, []KronShape{shape}, &NearestKronSettings{Method: method, MaxIter: 50})
			if err != nil {
				t.Fatalf("nearest Kronecker of a finite matrix: %v", err)
			}
			checkSolve(t, "nearest kron", nk.Dense(), x, v, lambda, nk.SolveDampedTo(x, v, lambda))
			kr, _ := nk.Block(0)
			g, a := kr.(*Kron).Factors()
			basis := kfacOfFactors(t, []mat.Symmetric{g}, []mat.Symmetric{a}, nil)
			if e, err := EKFACOf(basis, m); err == nil {
				checkSolve(t, "ekfac", e.Dense(), x, v, lambda, e.SolveDampedTo(x, v, lambda))
			}
		}

		// Low rank from m's columns, the diagonal from its diagonal.
		dg := make([]float64, n)
		for i := range dg {
			dg[i] = m.At(i, i)
		}
		if lr, err := NewLowRank(m.SliceSym(0, n), dg, 0); err == nil {
			checkSolve(t, "low rank", lr.Dense(), x, v, lambda, lr.SolveDampedTo(x, v, lambda))
		}

		// TONGA fed m's rows as gradients.
		if tg, err := NewTONGA(idx, &TONGASettings{Rank: 1, Refresh: 1, Residual: DiagonalResidual}); err == nil {
			for i := 0; i < n; i++ {
				if err := tg.Add(mat.Row(nil, i, m)); err != nil {
					t.Fatal(err)
				}
			}
			checkSolve(t, "tonga", tg.Dense(), x, v, lambda, tg.SolveDampedTo(x, v, lambda))
		}
	})
}
