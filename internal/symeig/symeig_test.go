package symeig

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/internal/randmat"
)

// checkDecomposition checks Decompose against the definition, A V = V Λ
// with VᵀV = I to a few hundred ε relative to ‖A‖ and Λ ascending, and
// its eigenvalues against gonum's EigenSym wherever gonum's own
// decomposition passes the same residual test: gonum v0.17.0's returns
// values of order 1e123 with ok = true on some sparse matrices (one is in
// the fuzz corpus).
func checkDecomposition(t *testing.T, a *mat.SymDense) {
	t.Helper()
	n := a.SymmetricDim()
	values, v, err := Decompose(a)
	if err != nil {
		t.Fatal(err)
	}
	scale := math.Max(mat.Norm(a, 2), 1e-300)
	tol := 1e-13 * float64(n+1)
	for k := 1; k < n; k++ {
		if values[k] < values[k-1] {
			t.Fatalf("eigenvalues not ascending at %d", k)
		}
	}
	if r := residual(a, values, v); r > tol*scale {
		t.Fatalf("‖AV − VΛ‖ = %g, ‖A‖ = %g", r, scale)
	}
	var vtv mat.Dense
	vtv.Mul(v.T(), v)
	for i := 0; i < n; i++ {
		vtv.Set(i, i, vtv.At(i, i)-1)
	}
	if r := mat.Norm(&vtv, 2); r > tol {
		t.Fatalf("‖VᵀV − I‖ = %g", r)
	}

	var ref mat.EigenSym
	if !ref.Factorize(a, true) {
		return
	}
	var rv mat.Dense
	ref.VectorsTo(&rv)
	want := ref.Values(nil)
	if residual(a, want, &rv) > tol*scale {
		t.Logf("gonum's EigenSym fails on this matrix (residual %g)", residual(a, want, &rv))
		return
	}
	for k := range want {
		if math.Abs(values[k]-want[k]) > tol*scale {
			t.Fatalf("λ_%d = %v, gonum %v", k, values[k], want[k])
		}
	}
}

// residual returns ‖A V − V diag(λ)‖₂.
func residual(a mat.Symmetric, values []float64, v *mat.Dense) float64 {
	var av, vl mat.Dense
	av.Mul(a, v)
	vl.Mul(v, mat.NewDiagDense(len(values), values))
	av.Sub(&av, &vl)
	return mat.Norm(&av, 2)
}

// randSym returns a random symmetric matrix with eigenvalues eig(0), …,
// eig(n−1).
func randSym(rng *rand.Rand, n int, eig func(i int) float64) *mat.SymDense {
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = eig(i)
	}
	a, _ := randmat.SymFromEig(rng, vals)
	return a
}

func TestDecompose(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	spectra := []struct {
		name string
		eig  func(i int) float64
	}{
		{"gaussian", func(int) float64 { return rng.NormFloat64() }},
		{"positive-wide", func(i int) float64 { return math.Pow(10, -8+float64(i%17)) }},
		{"clustered", func(i int) float64 { return 1 + 1e-10*float64(i%3) }},
		{"repeated", func(i int) float64 { return float64(i % 2) }},
		{"zero", func(int) float64 { return 0 }},
	}
	for _, n := range []int{1, 2, 3, 10, 65, 129} {
		for _, sp := range spectra {
			t.Run(fmt.Sprintf("%s/n%d", sp.name, n), func(t *testing.T) {
				checkDecomposition(t, randSym(rng, n, sp.eig))
			})
		}
	}
	t.Run("diagonal", func(t *testing.T) {
		a := mat.NewSymDense(5, nil)
		for i := 0; i < 5; i++ {
			a.SetSym(i, i, float64(5-i))
		}
		checkDecomposition(t, a)
	})
	t.Run("empty", func(t *testing.T) {
		values, v, err := Decompose(&mat.SymDense{})
		if err != nil || len(values) != 0 || !v.IsEmpty() {
			t.Fatalf("got %v, %v, %v", values, v, err)
		}
	})
}

func TestDecomposeNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		a := mat.NewSymDense(4, nil)
		a.SetSym(1, 2, bad)
		if _, _, err := Decompose(a); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func BenchmarkDecompose(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := randSym(rng, 129, func(int) float64 { return rng.Float64() })
	b.Run("symeig", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := Decompose(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gonum", func(b *testing.B) {
		for b.Loop() {
			var e mat.EigenSym
			if !e.Factorize(a, true) {
				b.Fatal("failed")
			}
		}
	})
}

// EigenSym, gonum's methods over Decompose: the same values and vectors,
// the values alone without vectors, and false on NaN.
func TestEigenSym(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := randSym(rng, 40, func(int) float64 { return rng.NormFloat64() })
	values, v, err := Decompose(a)
	if err != nil {
		t.Fatal(err)
	}
	var e EigenSym
	if !e.Factorize(a, true) {
		t.Fatal("Factorize failed")
	}
	var got mat.Dense
	e.VectorsTo(&got)
	if !mat.Equal(&got, v) {
		t.Fatal("VectorsTo differs from Decompose")
	}
	for _, vectors := range []bool{true, false} {
		if !e.Factorize(a, vectors) {
			t.Fatal("Factorize failed")
		}
		for k, x := range e.Values(nil) {
			if x != values[k] {
				t.Fatalf("vectors %v: λ_%d = %v, Decompose %v", vectors, k, x, values[k])
			}
		}
	}
	a.SetSym(3, 7, math.NaN())
	if e.Factorize(a, false) {
		t.Fatal("NaN accepted")
	}
}
