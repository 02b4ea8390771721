package gemm

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// kc is the block of the inner dimension: a kc×nr panel of B (24 or 32
// KiB) stays in L1 while the rows of A stream by from an mc×kc block in L2.
const kc = 256

// A tiling is a micro-kernel and the block sizes that go with it: the
// kernel computes an mr×nr tile of C in registers from a packed kc×nr
// panel of B and the mr×kc block of op(A) read in place, a[i·rs + p·ks]
// (rows of A, or columns when transposed, are streams the prefetcher
// follows, so only B needs packing); mc and nc are multiples of mr and nr.
// A tiling may name a narrow one that products of at most narrow.nr
// columns use instead.
type tiling struct {
	mr, nr, mc, nc int
	kernel         func(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64)
	narrow         *tiling
}

// active is the tiling in use, the first of tilings (nil without one).
var active = first(tilings)

func first(t []*tiling) *tiling {
	if len(t) == 0 {
		return nil
	}
	return t[0]
}

// parallelWork is the size m·n·k from which the rows of C are split over
// GOMAXPROCS goroutines: about half a millisecond of work, so that a
// network's products (a few million multiply-adds) stay on one goroutine:
// split over two on the 2-vCPU machines here, they made a gradient slower.
const parallelWork = 1 << 24

// Gemm computes C ← α op(A) op(B) + β C, as blas64.Gemm does, and panics on
// mismatched shapes as it does.
func Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	if !mul(tA, tB, alpha, a, b, beta, c, false) {
		blas64.Gemm(tA, tB, alpha, a, b, beta, c)
	}
}

// Syrk computes the upper triangle of C ← α AᵀA + β C (t = blas.Trans) or
// C ← α AAᵀ + β C (t = blas.NoTrans), as blas64.Syrk does with blas.Upper,
// except that it may also overwrite entries of C's strict lower triangle
// near the diagonal, which a symmetric matrix stored upper never reads.
func Syrk(t blas.Transpose, alpha float64, a blas64.General, beta float64, c blas64.Symmetric) {
	if c.Uplo != blas.Upper {
		panic("gemm: Syrk stores the upper triangle")
	}
	tB := blas.Trans
	if t != blas.NoTrans {
		tB = blas.NoTrans
	}
	g := blas64.General{Rows: c.N, Cols: c.N, Stride: c.Stride, Data: c.Data}
	if !mul(t, tB, alpha, a, a, beta, g, true) {
		blas64.Syrk(t, alpha, a, beta, c)
	}
}

// mul computes the product with the kernel, or reports false when
// blas64 should; upper restricts it to the tiles that meet C's upper
// triangle.
func mul(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General, upper bool) bool {
	m, n := c.Rows, c.Cols
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	checkShapes(tA, tB, a, b, c, k)
	t := active
	if t == nil || !gonumBLAS() {
		return false
	}
	if t.narrow != nil && n <= t.narrow.nr {
		t = t.narrow
	}
	if alpha == 0 {
		scale(beta, c)
		return true
	}
	p := runtime.GOMAXPROCS(0)
	if p == 1 || m*n*k < parallelWork || m < 2*t.mr {
		t.rows(tA, tB, alpha, a, b, beta, c, 0, m, upper)
		return true
	}
	// Split the rows of C into p chunks of whole tiles.
	chunk := ((m+p-1)/p + t.mr - 1) / t.mr * t.mr
	var wg sync.WaitGroup
	for i0 := 0; i0 < m; i0 += chunk {
		i1 := min(i0+chunk, m)
		wg.Go(func() { t.rows(tA, tB, alpha, a, b, beta, c, i0, i1, upper) })
	}
	wg.Wait()
	return true
}

// gonumBLAS reports whether blas64 uses gonum's own implementation, the one
// this package outruns; a registered BLAS such as OpenBLAS is used as is.
func gonumBLAS() bool {
	_, ok := blas64.Implementation().(gonum.Implementation)
	return ok
}

func checkShapes(tA, tB blas.Transpose, a, b, c blas64.General, k int) {
	am, ak := a.Rows, a.Cols
	if tA != blas.NoTrans {
		am, ak = ak, am
	}
	bk, bn := b.Rows, b.Cols
	if tB != blas.NoTrans {
		bk, bn = bn, bk
	}
	if am != c.Rows || bn != c.Cols || ak != bk || ak != k {
		panic("gemm: bad shapes")
	}
	// The kernel reads and writes through pointers: the slices must hold
	// what the shapes say.
	for _, g := range []blas64.General{a, b, c} {
		if g.Rows > 0 && g.Cols > 0 && (g.Stride < g.Cols || len(g.Data) < (g.Rows-1)*g.Stride+g.Cols) {
			panic("gemm: matrix data shorter than its shape")
		}
	}
}

// scale stores βC in C (β = 0 clears C without reading it).
func scale(beta float64, c blas64.General) {
	for i := 0; i < c.Rows; i++ {
		row := c.Data[i*c.Stride : i*c.Stride+c.Cols]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packs keeps packing space between calls: a channel rather than a
// sync.Pool, which drops its buffers at every garbage collection, after
// which allocating them again cost more than a small product.
var packs = make(chan *pack, 4)

func getPack() *pack {
	select {
	case p := <-packs:
		return p
	default:
		return &pack{}
	}
}

func putPack(p *pack) {
	select {
	case packs <- p:
	default:
	}
}

type pack struct {
	a, b []float64        // a holds the last, partial row tile of a block
	tile [12 * 16]float64 // a partial tile, computed whole
}

// grow makes room for na and nb values in a and b.
func (p *pack) grow(na, nb int) {
	if cap(p.a) < na {
		p.a = make([]float64, na)
	}
	if cap(p.b) < nb {
		p.b = make([]float64, nb)
	}
	p.a, p.b = p.a[:cap(p.a)], p.b[:cap(p.b)]
}

// rows computes rows [i0, i1) of C (their upper-triangle tiles if upper).
func (t *tiling) rows(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General, i0, i1 int, upper bool) {
	mc, nc := t.mc, t.nc
	n := c.Cols
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	buf := getPack()
	defer putPack(buf)
	kbMax := min(kc, k)
	buf.grow(t.mr*kbMax, kbMax*((min(nc, n)+t.nr-1)/t.nr*t.nr))
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			packB(buf.b, t.nr, tB, b, pc, kb, jc, nb)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := i0; ic < i1; ic += mc {
				if upper && ic >= jc+nb {
					break // this and the later row blocks lie below the diagonal
				}
				mb := min(mc, i1-ic)
				if full := mb / t.mr * t.mr; full < mb {
					packA(buf.a, t.mr, tA, a, ic+full, mb-full, pc, kb)
				}
				t.block(buf, tA, a, pc, kb, mb, nb, alpha, bet, c, ic, jc, upper)
			}
		}
	}
}

// block multiplies the mb×kb block of op(A) at (ic, pc), read in place
// but for a partial last row tile packed in buf.a, by the packed kb×nb
// block of op(B) into C[ic:ic+mb, jc:jc+nb], tile by tile (those meeting
// the upper triangle if upper).
func (t *tiling) block(buf *pack, tA blas.Transpose, a blas64.General, pc, kb, mb, nb int, alpha, beta float64, c blas64.General, ic, jc int, upper bool) {
	mr, nr, kernel := t.mr, t.nr, t.kernel
	for jr := 0; jr < nb; jr += nr {
		bp := &buf.b[jr*kb]
		cols := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			if upper && ic+ir >= jc+jr+cols {
				break // every entry of this tile and those below is in the lower triangle
			}
			rows := min(mr, mb-ir)
			ap, rs, ks := &buf.a[0], 1, mr // the packed partial tile
			if rows == mr {
				if tA == blas.NoTrans {
					ap, rs, ks = &a.Data[(ic+ir)*a.Stride+pc], a.Stride, 1
				} else {
					ap, rs, ks = &a.Data[pc*a.Stride+ic+ir], 1, a.Stride
				}
			}
			off := (ic+ir)*c.Stride + jc + jr
			if rows == mr && cols == nr {
				kernel(kb, ap, rs, ks, bp, &c.Data[off], c.Stride, alpha, beta)
				continue
			}
			// A partial tile: compute it whole into the scratch tile, then
			// copy out the part that exists.
			tile := buf.tile[:mr*nr]
			kernel(kb, ap, rs, ks, bp, &tile[0], nr, alpha, 0)
			for i := 0; i < rows; i++ {
				dst := c.Data[off+i*c.Stride : off+i*c.Stride+cols]
				src := tile[i*nr : i*nr+cols]
				if beta == 0 {
					copy(dst, src)
					continue
				}
				for j, v := range src {
					dst[j] = math.FMA(beta, dst[j], v) // as the kernel rounds
				}
			}
		}
	}
}

// packA stores rows [i0, i0+rows) and columns [p0, p0+kb) of op(A), rows <
// mr, in dst as one panel of mr rows, each column contiguous, zero-padded:
// the last row tile of a block, which the kernel cannot read in place
// without running off the end of A.
func packA(dst []float64, mr int, t blas.Transpose, a blas64.General, i0, rows, p0, kb int) {
	panel := dst[:mr*kb]
	clear(panel)
	if t == blas.NoTrans {
		for r := 0; r < rows; r++ {
			o := (i0+r)*a.Stride + p0
			for p, v := range a.Data[o : o+kb] {
				panel[p*mr+r] = v
			}
		}
		return
	}
	for p := 0; p < kb; p++ {
		o := (p0+p)*a.Stride + i0
		d := panel[p*mr : p*mr+rows]
		for r, v := range a.Data[o : o+rows] {
			d[r] = v
		}
	}
}

// packB stores rows [p0, p0+kb) and columns [j0, j0+nb) of op(B) in dst as
// panels of nr columns (a multiple of 4), each row of a panel contiguous,
// zero-padded.
func packB(dst []float64, nr int, t blas.Transpose, b blas64.General, p0, kb, j0, nb int) {
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : jr*kb+nr*kb]
		cols := min(nr, nb-jr)
		if t == blas.NoTrans {
			if cols == nr {
				// Element by element: an array assignment between slices
				// may overlap, so it compiles to a call to memmove.
				for p := 0; p < kb; p++ {
					o := (p0+p)*b.Stride + j0 + jr
					src := b.Data[o : o+nr : o+nr]
					d := panel[p*nr : p*nr+nr : p*nr+nr]
					for j, v := range src {
						d[j] = v
					}
				}
				continue
			}
			// A partial panel: plain loops, as copy and clear would make
			// two calls per row for a few values.
			for p := 0; p < kb; p++ {
				src := b.Data[(p0+p)*b.Stride+j0+jr : (p0+p)*b.Stride+j0+jr+cols]
				d := panel[p*nr : p*nr+nr]
				for j, v := range src {
					d[j] = v
				}
				for j := cols; j < nr; j++ {
					d[j] = 0
				}
			}
			continue
		}
		// op(B) = Bᵀ: row p of the panel gathers column p0+p of B's rows,
		// four rows of B at a time.
		j := 0
		for ; j+4 <= cols; j += 4 {
			o := (j0+jr+j)*b.Stride + p0
			r0 := b.Data[o : o+kb]
			r1 := b.Data[o+b.Stride : o+b.Stride+kb]
			r2 := b.Data[o+2*b.Stride : o+2*b.Stride+kb]
			r3 := b.Data[o+3*b.Stride : o+3*b.Stride+kb]
			r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
			for p := range r0 {
				d := panel[p*nr+j : p*nr+j+4 : p*nr+j+4]
				d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
			}
		}
		for ; j < nr; j++ {
			if j >= cols {
				for p := 0; p < kb; p++ {
					panel[p*nr+j] = 0
				}
				continue
			}
			src := b.Data[(j0+jr+j)*b.Stride+p0 : (j0+jr+j)*b.Stride+p0+kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}
