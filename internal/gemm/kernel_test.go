package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// allTilings returns every tiling this CPU runs, narrow ones included.
func allTilings() []*tiling {
	var all []*tiling
	for _, t := range tilings {
		all = append(all, t)
		if t.narrow != nil {
			all = append(all, t.narrow)
		}
	}
	return all
}

// allKernels returns every tiling of allTilings and, as tilings of their
// own rows, their edge kernels: what checkKernel holds to kernelGo.
func allKernels() []*tiling {
	var all []*tiling
	for _, t := range allTilings() {
		all = append(all, t)
		for _, e := range t.edges {
			all = append(all, &tiling{mr: e.rows, nr: t.nr, kernel: e.kernel})
		}
	}
	return all
}

// checkKernel runs tiling t's kernel on one tile — kc steps, A read at
// a[i·rs + p·ks] from a random matrix, B's rows ldb apart (a packed panel
// when ldb = nr), C at
// stride ldc — and compares every entry of C, and the entries between its
// rows, bit for bit with kernelGo.
func checkKernel(t *testing.T, tl *tiling, rng *rand.Rand, kc int, transA bool, ldb int, alpha, beta float64) {
	t.Helper()
	mr, nr := tl.mr, tl.nr
	rs, ks := kc+1, 1 // rows of A, padded
	if transA {
		rs, ks = 1, mr+3
	}
	a := make([]float64, (mr-1)*rs+max(kc-1, 0)*ks+1)
	b := make([]float64, max(kc-1, 0)*ldb+nr)
	ldc := nr + 2
	c := make([]float64, mr*ldc)
	for _, s := range [][]float64{a, b, c} {
		for i := range s {
			s[i] = rng.NormFloat64()
		}
	}
	if beta == 0 {
		for i := range c {
			c[i] = math.NaN() // β = 0 must not read C
		}
	}
	want := append([]float64(nil), c...)
	kernelGo(mr, nr, kc, a, rs, ks, b, want, ldc, alpha, beta, ldb)
	tl.kernel(kc, &a[0], rs, ks, &b[0], &c[0], ldc, alpha, beta, ldb)
	for i, g := range c {
		if math.Float64bits(g) != math.Float64bits(want[i]) && !(math.IsNaN(g) && math.IsNaN(want[i])) {
			t.Fatalf("%dx%d kernel, kc=%d, ldb=%d: c[%d] = %v, kernelGo gives %v", mr, nr, kc, ldb, i, g, want[i])
		}
	}
}

// TestKernelsMatchGo holds every assembly kernel this CPU runs to the bits
// of its pure-Go twin, over inner dimensions around the block size, both
// ways of reading A, and scalars that take every store path (β = 0 without
// reading C, β ≠ 0, β NaN).
func TestKernelsMatchGo(t *testing.T) {
	if len(allKernels()) == 0 {
		t.Skip("no assembly kernel on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tl := range allKernels() {
		for _, kc := range []int{0, 1, 2, 7, 64, kc} {
			for _, transA := range []bool{false, true} {
				// B packed (ldb = nr) and read in place from wider rows.
				for _, ldb := range []int{tl.nr, tl.nr + 5} {
					for _, ab := range [][2]float64{{1, 0}, {-0.75, 1}, {2, 0.5}, {1, math.NaN()}} {
						t.Run(fmt.Sprintf("%dx%d/kc%d/trans%t/ldb%d/a%g,b%g", tl.mr, tl.nr, kc, transA, ldb, ab[0], ab[1]), func(t *testing.T) {
							checkKernel(t, tl, rng, kc, transA, ldb, ab[0], ab[1])
						})
					}
				}
			}
		}
	}
}

// TestNarrowSameBits checks that a product of at most 8 columns, which the
// AVX-512 tiling hands to its narrow tile, has the bits the wide tile
// gives it: both sum each entry in the same order.
func TestNarrowSameBits(t *testing.T) {
	if active == nil || active.narrow == nil {
		t.Skip("no narrow tile on this CPU or build")
	}
	saved := active
	defer func() { active = saved }()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, s := range [][3]int{{26, 6, 576}, {577, 6, 26}, {13, 8, 300}, {5, 1, 3}, {40, 3, 600}} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				a, b, c := operands(rng, tA, tB, s[0], s[1], s[2], 1)
				narrow := copyGeneral(c)
				active = saved
				Gemm(tA, tB, 1.5, a, b, 0.5, narrow)
				wide := *saved
				wide.narrow = nil
				active = &wide
				Gemm(tA, tB, 1.5, a, b, 0.5, c)
				for i := range c.Data {
					if math.Float64bits(c.Data[i]) != math.Float64bits(narrow.Data[i]) {
						t.Fatalf("%v %c%c: C[%d] = %v with the narrow tile, %v with the wide", s, tA, tB, i, narrow.Data[i], c.Data[i])
					}
				}
			}
		}
	}
}
