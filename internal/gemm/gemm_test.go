package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// naive is the oracle: the defining triple loop.
func naive(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	at := func(g blas64.General, t blas.Transpose, i, j int) float64 {
		if t != blas.NoTrans {
			i, j = j, i
		}
		return g.Data[i*g.Stride+j]
	}
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	for i := 0; i < c.Rows; i++ {
		for j := 0; j < c.Cols; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(a, tA, i, p) * at(b, tB, p, j)
			}
			v := alpha * s
			if beta != 0 {
				v += beta * c.Data[i*c.Stride+j]
			}
			c.Data[i*c.Stride+j] = v
		}
	}
}

func randGeneral(rng *rand.Rand, r, c, pad int) blas64.General {
	g := blas64.General{Rows: r, Cols: c, Stride: c + pad, Data: make([]float64, max(0, (r-1)*(c+pad)+c))}
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	return g
}

func copyGeneral(g blas64.General) blas64.General {
	g.Data = append([]float64(nil), g.Data...)
	return g
}

// operands returns random A, B and C for C ← α op(A) op(B) + β C with C
// m×n and inner dimension k, rows padded by pad.
func operands(rng *rand.Rand, tA, tB blas.Transpose, m, n, k, pad int) (a, b, c blas64.General) {
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	return randGeneral(rng, ar, ac, pad), randGeneral(rng, br, bc, pad), randGeneral(rng, m, n, pad)
}

// checkGemm compares Gemm with the triple loop on one product, entry by
// entry, to a tolerance scaled by the size of the sums.
func checkGemm(t *testing.T, rng *rand.Rand, tA, tB blas.Transpose, m, n, k, pad int, alpha, beta float64) {
	t.Helper()
	a, b, c := operands(rng, tA, tB, m, n, k, pad)
	if beta == 0 {
		for i := range c.Data {
			c.Data[i] = math.NaN() // β = 0 must not read C
		}
	}
	want := copyGeneral(c)
	naive(tA, tB, alpha, a, b, beta, want)
	Gemm(tA, tB, alpha, a, b, beta, c)
	tol := 1e-13 * float64(k+1) * (math.Abs(alpha) + math.Abs(beta) + 1)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, w := c.Data[i*c.Stride+j], want.Data[i*c.Stride+j]
			if !(math.Abs(g-w) <= tol*(1+math.Abs(w))) {
				t.Fatalf("C[%d,%d] = %v, want %v", i, j, g, w)
			}
		}
		// The padding between rows is not C's and must be untouched.
		for j := n; j < c.Stride && i < m-1; j++ {
			if g, w := c.Data[i*c.Stride+j], want.Data[i*c.Stride+j]; g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Fatalf("padding C[%d,%d] changed to %v", i, j, g)
			}
		}
	}
}

// eachTiling runs f with every micro-kernel this CPU has (a narrow one in
// the products of at most its width, which the tiling hands it), and once
// with none (blas64's products).
func eachTiling(t *testing.T, f func(t *testing.T)) {
	saved := active
	defer func() { active = saved }()
	for _, tl := range append(tilings, nil) {
		name := "blas64"
		if tl != nil {
			name = fmt.Sprintf("%dx%d", tl.mr, tl.nr)
		}
		active = tl
		t.Run(name, f)
	}
}

func TestGemm(t *testing.T) { eachTiling(t, testGemm) }

func testGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{
		{1, 1, 1}, {4, 12, 1}, {4, 12, 7}, {5, 13, 3}, {3, 11, 9}, {8, 24, 16},
		{17, 29, 31}, {64, 128, 64}, {130, 10, 129}, {129, 37, 300}, {7, 1100, 5},
		{256, 64, 513}, {12, 16, 2}, {13, 17, 5}, {25, 33, 11}, {133, 20, 7}, {9, 1030, 3},
		{26, 6, 300}, {300, 8, 26}, {13, 3, 5}, // at most 8 columns: the narrow tile where there is one
	}
	trans := []blas.Transpose{blas.NoTrans, blas.Trans}
	for _, s := range shapes {
		for _, tA := range trans {
			for _, tB := range trans {
				for _, ab := range [][2]float64{{1, 0}, {1, 1}, {-0.5, 2}, {0, 0.5}, {2, 0}} {
					for _, pad := range []int{0, 3} {
						name := fmt.Sprintf("%dx%dx%d/%c%c/a%g,b%g/pad%d", s[0], s[1], s[2], tA, tB, ab[0], ab[1], pad)
						t.Run(name, func(t *testing.T) {
							checkGemm(t, rng, tA, tB, s[0], s[1], s[2], pad, ab[0], ab[1])
						})
					}
				}
			}
		}
	}
}

// TestGemmParallel covers the split of C's rows over goroutines.
func TestGemmParallel(t *testing.T) { eachTiling(t, testGemmParallel) }

func testGemmParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{521, 190, 170}, {260, 260, 260}} {
		if s[0]*s[1]*s[2] < parallelWork {
			t.Fatalf("shape %v is below the parallel threshold", s)
		}
		checkGemm(t, rng, blas.NoTrans, blas.Trans, s[0], s[1], s[2], 1, 1.5, 1)
	}
}

// TestRowChunks checks the split of C's rows: contiguous ranges of whole
// tiles that cover every row, each with its share of the work to within
// a tile's rows (for the upper triangle, counted entry by entry).
func TestRowChunks(t *testing.T) {
	for _, upper := range []bool{false, true} {
		for _, m := range []int{1, 13, 24, 300, 1000, 1001} {
			for _, p := range []int{1, 2, 3, 4} {
				const mr = 12
				work := func(i0, i1 int) int {
					if !upper {
						return (i1 - i0) * m
					}
					w := 0
					for i := i0; i < i1; i++ {
						w += m - i
					}
					return w
				}
				next := 0
				for i0, i1 := range rowChunks(m, m, p, mr, upper) {
					if i0 != next || i1 <= i0 || (i1 < m && i1%mr != 0) {
						t.Fatalf("upper %v, m %d, p %d: rows [%d, %d) after %d", upper, m, p, i0, i1, next)
					}
					if d := math.Abs(float64(work(i0, i1) - work(0, m)/p)); d > float64(mr*m) {
						t.Errorf("upper %v, m %d, p %d: rows [%d, %d) are %d from an equal share", upper, m, p, i0, i1, int(d))
					}
					next = i1
				}
				if next != m {
					t.Fatalf("upper %v, m %d, p %d: the chunks end at row %d", upper, m, p, next)
				}
			}
		}
	}
}

func TestGemmBadShapes(t *testing.T) {
	a := blas64.General{Rows: 20, Cols: 30, Stride: 30, Data: make([]float64, 600)}
	b := blas64.General{Rows: 30, Cols: 40, Stride: 40, Data: make([]float64, 1200)}
	for _, tc := range []struct {
		name string
		c    blas64.General
	}{
		{"rows", blas64.General{Rows: 21, Cols: 40, Stride: 40, Data: make([]float64, 840)}},
		{"short data", blas64.General{Rows: 20, Cols: 40, Stride: 40, Data: make([]float64, 700)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, tc.c)
		})
	}
}

// TestSyrk compares the upper triangle with the triple loop; C's lower
// triangle holds NaN, which must not leak into it.
func TestSyrk(t *testing.T) { eachTiling(t, testSyrk) }

func testSyrk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][2]int{{5, 3}, {13, 40}, {65, 64}, {129, 64}, {140, 300}, {300, 200}} {
		for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, ab := range [][2]float64{{1, 0}, {0.25, 1}} {
				n, k := s[0], s[1]
				t.Run(fmt.Sprintf("%dx%d/%c/a%g,b%g", n, k, tr, ab[0], ab[1]), func(t *testing.T) {
					var a blas64.General
					tB := blas.Trans
					if tr == blas.NoTrans {
						a = randGeneral(rng, n, k, 1)
					} else {
						a = randGeneral(rng, k, n, 1)
						tB = blas.NoTrans
					}
					c := randGeneral(rng, n, n, 0)
					for i := 0; i < n; i++ {
						for j := 0; j < i; j++ {
							c.Data[i*n+j] = math.NaN()
						}
					}
					want := copyGeneral(c)
					naive(tr, tB, ab[0], a, a, ab[1], want)
					Syrk(tr, ab[0], a, ab[1], blas64.Symmetric{N: n, Stride: n, Data: c.Data, Uplo: blas.Upper})
					for i := 0; i < n; i++ {
						for j := i; j < n; j++ {
							g, w := c.Data[i*n+j], want.Data[i*n+j]
							if !(math.Abs(g-w) <= 1e-13*float64(k)*(1+math.Abs(w))) {
								t.Fatalf("C[%d,%d] = %v, want %v", i, j, g, w)
							}
						}
					}
				})
			}
		}
	}
}

// TestGemmRowsAlone checks that a row of a product is the same bits when
// computed alone, as the package documents for the kernel.
func TestGemmRowsAlone(t *testing.T) {
	if active == nil {
		t.Skip("no kernel: blas64 makes no such promise")
	}
	eachTiling(t, testGemmRowsAlone)
}

func testGemmRowsAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	// 37 rows end in a tail of one row; 47 in an edge tile of 8 and a
	// tail of 3; 44 in an edge tile of 8 after rows packed because they
	// alias (stride 256, 300 columns).
	for _, s := range [][3]int{{37, 29, 300}, {47, 29, 300}, {44, 300, 256}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randGeneral(rng, m, k, 0), randGeneral(rng, n, k, 0)
		c := randGeneral(rng, m, n, 0)
		whole := copyGeneral(c)
		Gemm(blas.NoTrans, blas.Trans, 1.5, a, b, 0.5, whole)
		for i := 0; i < m; i++ {
			ai := blas64.General{Rows: 1, Cols: k, Stride: k, Data: a.Data[i*k : (i+1)*k]}
			ci := blas64.General{Rows: 1, Cols: n, Stride: n, Data: append([]float64(nil), c.Data[i*n:(i+1)*n]...)}
			Gemm(blas.NoTrans, blas.Trans, 1.5, ai, b, 0.5, ci)
			for j := range ci.Data {
				if ci.Data[j] != whole.Data[i*n+j] {
					t.Fatalf("%v: row %d alone: C[%d] = %v, in the product %v", s, i, j, ci.Data[j], whole.Data[i*n+j])
				}
			}
		}
	}
}

// TestPackedSameBits checks that a product whose rows of A alias in L1,
// which the kernels read packed, has the bits of the same product with A
// at a stride one longer, read in place, and is the triple loop's to
// rounding; Syrk too.
func TestPackedSameBits(t *testing.T) {
	if active == nil {
		t.Skip("no kernel: nothing is packed")
	}
	eachTiling(t, testPackedSameBits)
}

// padded returns a copy of g with rows one value longer apart.
func padded(g blas64.General) blas64.General {
	p := blas64.General{Rows: g.Rows, Cols: g.Cols, Stride: g.Stride + 1, Data: make([]float64, g.Rows*(g.Stride+1))}
	for i := 0; i < g.Rows; i++ {
		copy(p.Data[i*p.Stride:i*p.Stride+g.Cols], g.Data[i*g.Stride:i*g.Stride+g.Cols])
	}
	return p
}

func testPackedSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	// Row counts that end in whole tiles, an edge tile and a tail, within
	// one row block and over two; inner dimensions of one and three blocks.
	for _, s := range [][3]int{{24, packWidth, 256}, {150, packWidth + 5, 512}, {45, 300, 768}} {
		m, n, k := s[0], s[1], s[2]
		aliased := randGeneral(rng, m, k, 0)
		if !aliasedA(blas.NoTrans, aliased) || n < packWidth {
			t.Fatalf("%v: not read packed", s)
		}
		inPlace := padded(aliased)
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			_, b, c := operands(rng, blas.NoTrans, tB, m, n, k, 2)
			want := copyGeneral(c)
			naive(blas.NoTrans, tB, 1.5, aliased, b, 0.5, want)
			packed, read := copyGeneral(c), copyGeneral(c)
			Gemm(blas.NoTrans, tB, 1.5, aliased, b, 0.5, packed)
			Gemm(blas.NoTrans, tB, 1.5, inPlace, b, 0.5, read)
			for i, v := range packed.Data {
				if math.Float64bits(v) != math.Float64bits(read.Data[i]) {
					t.Fatalf("%v %c: C[%d] = %v packed, %v in place", s, tB, i, v, read.Data[i])
				}
				if w := want.Data[i]; !(math.Abs(v-w) <= 1e-13*float64(k+1)*(1+math.Abs(w))) {
					t.Fatalf("%v %c: C[%d] = %v, want %v", s, tB, i, v, w)
				}
			}
		}
	}
	// Syrk of AAᵀ with n ≥ packWidth rows: the upper triangle's tiles.
	const n, k = packWidth + 7, 256
	aliased := randGeneral(rng, n, k, 0)
	inPlace := padded(aliased)
	c := randGeneral(rng, n, n, 0)
	packed, read := copyGeneral(c), copyGeneral(c)
	Syrk(blas.NoTrans, 0.5, aliased, 2, blas64.Symmetric{N: n, Stride: n, Data: packed.Data, Uplo: blas.Upper})
	Syrk(blas.NoTrans, 0.5, inPlace, 2, blas64.Symmetric{N: n, Stride: n, Data: read.Data, Uplo: blas.Upper})
	want := copyGeneral(c)
	naive(blas.NoTrans, blas.Trans, 0.5, aliased, aliased, 2, want)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v, w := packed.Data[i*n+j], want.Data[i*n+j]
			if math.Float64bits(v) != math.Float64bits(read.Data[i*n+j]) {
				t.Fatalf("Syrk: C[%d,%d] = %v packed, %v in place", i, j, v, read.Data[i*n+j])
			}
			if !(math.Abs(v-w) <= 1e-13*float64(k+1)*(1+math.Abs(w))) {
				t.Fatalf("Syrk: C[%d,%d] = %v, want %v", i, j, v, w)
			}
		}
	}
}

// TestBInPlaceSameBits checks that products of at most one block of rows,
// which read B in place, give the bits of the same rows computed within a
// taller product, which packs B: over inner dimensions below and above
// the block of 256, with a last partial panel of B, and with B's rows at
// a stride that aliases (packed then whatever the rows).
func TestBInPlaceSameBits(t *testing.T) {
	if active == nil {
		t.Skip("no kernel: blas64 makes no such promise")
	}
	eachTiling(t, func(t *testing.T) {
		if active == nil {
			t.Skip("blas64 makes no such promise")
		}
		rng := rand.New(rand.NewPCG(11, 12))
		for _, s := range []struct {
			m, n, k, pad int
			inPlace      bool // for the 40-row products
		}{{300, 29, 100, 0, true}, {300, 48, 300, 3, true}, {290, 37, 257, 64 - 37, false}} {
			m, n, k, pad := s.m, s.n, s.k, s.pad
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				a, b, c := operands(rng, tA, blas.NoTrans, m, n, k, pad)
				if got := readsBInPlace(blas.NoTrans, b, 40, active.mc); got != s.inPlace {
					t.Fatalf("%v: B at stride %d read in place: %t", s, b.Stride, got)
				}
				whole := copyGeneral(c)
				Gemm(tA, blas.NoTrans, 1.5, a, b, 0.5, whole)
				for i0 := 0; i0 < m; i0 += 40 {
					i1 := min(i0+40, m)
					as := blas64.General{Rows: a.Rows, Cols: i1 - i0, Stride: a.Stride, Data: a.Data[i0:]}
					if tA == blas.NoTrans {
						as = blas64.General{Rows: i1 - i0, Cols: a.Cols, Stride: a.Stride, Data: a.Data[i0*a.Stride:]}
					}
					cs := blas64.General{Rows: i1 - i0, Cols: n, Stride: c.Stride, Data: append([]float64(nil), c.Data[i0*c.Stride:]...)}
					Gemm(tA, blas.NoTrans, 1.5, as, b, 0.5, cs)
					for i := 0; i < i1-i0; i++ {
						for j := 0; j < n; j++ {
							if g, w := cs.Data[i*cs.Stride+j], whole.Data[(i0+i)*whole.Stride+j]; g != w {
								t.Fatalf("%v %v: rows from %d: C[%d, %d] = %v, in the taller product %v", s, tA, i0, i0+i, j, g, w)
							}
						}
					}
				}
			}
		}
	})
}
