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

// packWidth is the number of columns of C from which a block of op(A) whose
// rows alias in L1 (aliasedA) is packed: each packed block serves
// packWidth/nr panels of B or more, which repay the copy.
const packWidth = 256

// aliasedA reports whether the rows of A fall into at most two sets of L1
// (a stride of a multiple of 2 KiB, as a batch of 512-wide activations
// has): read in place, the tile's 12 rows then evict one another and the
// panel of B. Transposed, a tile's rows are consecutive and each step reads
// one new line: packing those was 5% slower (512×512×256, A transposed).
func aliasedA(tA blas.Transpose, a blas64.General) bool {
	return tA == blas.NoTrans && a.Stride%256 == 0
}

// A microKernel stores α·op(A)·B + βC in an mr×nr tile of C from kc rows
// of nr entries of B, ldb apart (nr in a packed panel), and mr rows of
// op(A) read at a[i·rs + p·ks] (see kernelGo).
type microKernel func(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)

// A tiling is a micro-kernel and the block sizes that go with it: the
// kernel computes an mr×nr tile of C in registers from a kc×nr panel of
// B, packed (or read in place: readsBInPlace), and the mr×kc block of
// op(A) read in place, a[i·rs + p·ks] (rows of A, or columns when
// transposed, are streams the prefetcher follows, so only B needs
// packing, but for rows that alias in L1); mc
// and nc are multiples of mr and nr. A tiling may name a narrow one that
// products of at most narrow.nr columns use instead, and edge kernels of
// fewer rows (most first) for the last rows of a block, which it would
// otherwise compute whole into a scratch tile.
type tiling struct {
	mr, nr, mc, nc int
	kernel         microKernel
	narrow         *tiling
	edges          []edge
}

// An edge is a kernel for a tile of fewer rows than its tiling's.
type edge struct {
	rows   int
	kernel microKernel
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
	var wg sync.WaitGroup
	for i0, i1 := range rowChunks(m, n, p, t.mr, upper) {
		wg.Go(func() { t.rows(tA, tB, alpha, a, b, beta, c, i0, i1, upper) })
	}
	wg.Wait()
	return true
}

// rowChunks yields p ranges [i0, i1) of C's m rows, in whole tiles of mr
// rows, that hold equal shares of the work: equal numbers of rows for a
// full product, and for the upper triangle (m = n) the boundaries
// i_j = m − m·√(1 − j/p), where the rows below i_j hold (1 − j/p) of the
// triangle's entries (equal rows gave the first of two goroutines 3/4 of
// the work).
func rowChunks(m, n, p, mr int, upper bool) func(yield func(int, int) bool) {
	return func(yield func(int, int) bool) {
		i0 := 0
		for j := 1; j <= p && i0 < m; j++ {
			f := float64(j) / float64(p)
			if upper && m == n {
				f = 1 - math.Sqrt(1-f)
			}
			i1 := min((int(f*float64(m))+mr-1)/mr*mr, m)
			if j == p {
				i1 = m
			}
			if i1 <= i0 {
				continue
			}
			if !yield(i0, i1) {
				return
			}
			i0 = i1
		}
	}
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
	a, b []float64        // a holds op(A)'s block, packed, where it is read packed
	tail []float64        // the last rows of a block, fewer than any kernel's
	tile [12 * 16]float64 // a partial tile, computed whole
}

// grow makes room for na, nb and nt values in a, b and tail.
func (p *pack) grow(na, nb, nt int) {
	if cap(p.a) < na {
		p.a = make([]float64, na)
	}
	if cap(p.b) < nb {
		p.b = make([]float64, nb)
	}
	if cap(p.tail) < nt {
		p.tail = make([]float64, nt)
	}
	p.a, p.b, p.tail = p.a[:cap(p.a)], p.b[:cap(p.b)], p.tail[:cap(p.tail)]
}

// kernelFor returns the kernel for the next tile of a row tile with left
// rows (at most mr) to compute and the rows it computes: the tiling's own
// for a whole tile, else the largest edge kernel that fits, else nil (the
// tail, which the tiling's kernel computes from a packed copy into a
// scratch tile).
func (t *tiling) kernelFor(left int) (microKernel, int) {
	if left == t.mr {
		return t.kernel, t.mr
	}
	for _, e := range t.edges {
		if left >= e.rows {
			return e.kernel, e.rows
		}
	}
	return nil, left
}

// tailRows returns how many of r < mr rows the edge kernels leave over.
func (t *tiling) tailRows(r int) int {
	for r > 0 {
		k, rows := t.kernelFor(r)
		if k == nil {
			break
		}
		r -= rows
	}
	return r
}

// rows computes rows [i0, i1) of C (their upper-triangle tiles if upper).
func (t *tiling) rows(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General, i0, i1 int, upper bool) {
	mr, mc, nc := t.mr, t.mc, t.nc
	n := c.Cols
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	buf := getPack()
	defer putPack(buf)
	kbMax := min(kc, k)
	packed := n >= packWidth && aliasedA(tA, a)
	na := 0
	if packed {
		na = (min(mc, i1-i0) + mr - 1) / mr * mr * kbMax
	}
	buf.grow(na, kbMax*((min(nc, n)+t.nr-1)/t.nr*t.nr), mr*kbMax)
	inPlace := readsBInPlace(tB, b, i1-i0, mc)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			if full := nb / t.nr * t.nr; !inPlace {
				packB(buf.b, t.nr, tB, b, pc, kb, jc, nb)
			} else if full < nb {
				// The last, partial panel, zero-padded to nr columns.
				packB(buf.b[full*kb:], t.nr, tB, b, pc, kb, jc+full, nb-full)
			}
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := i0; ic < i1; ic += mc {
				if upper && ic >= jc+nb {
					break // this and the later row blocks lie below the diagonal
				}
				mb := min(mc, i1-ic)
				if packed {
					for ir := 0; ir < mb; ir += mr {
						packA(buf.a[ir*kb:], mr, tA, a, ic+ir, min(mr, mb-ir), pc, kb)
					}
				}
				if tail := t.tailRows(mb % mr); tail > 0 {
					packA(buf.tail, mr, tA, a, ic+mb-tail, tail, pc, kb)
				}
				t.block(buf, packed, tA, a, inPlace, b, pc, kb, mb, nb, alpha, bet, c, ic, jc, upper)
			}
		}
	}
}

// block multiplies the mb×kb block of op(A) at (ic, pc), read in place or
// packed in buf.a, by the kb×nb block of op(B) at (pc, jc), packed in
// buf.b or, if bInPlace, read from b but for a last partial panel, into
// C[ic:ic+mb, jc:jc+nb], tile by tile (those meeting the upper triangle if
// upper). The rows of a last partial row tile go through the edge kernels,
// and those they leave, packed in buf.tail, through the tiling's kernel.
func (t *tiling) block(buf *pack, packed bool, tA blas.Transpose, a blas64.General, bInPlace bool, b blas64.General, pc, kb, mb, nb int, alpha, beta float64, c blas64.General, ic, jc int, upper bool) {
	mr, nr := t.mr, t.nr
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bp, ldb := &buf.b[jr*kb], nr
		if bInPlace && cols == nr {
			bp, ldb = &b.Data[pc*b.Stride+jc+jr], b.Stride
		}
		for i := ic; i < ic+mb; {
			if upper && i >= jc+jr+cols {
				break // every entry of this tile and those below is in the lower triangle
			}
			kernel, rows := t.kernelFor(min(mr, ic+mb-i))
			var ap *float64
			rs, ks := 1, mr
			switch r := i - ic; {
			case kernel == nil:
				ap = &buf.tail[0]
			case packed:
				ap = &buf.a[r/mr*mr*kb+r%mr]
			case tA == blas.NoTrans:
				ap, rs, ks = &a.Data[i*a.Stride+pc], a.Stride, 1
			default:
				ap, rs, ks = &a.Data[pc*a.Stride+i], 1, a.Stride
			}
			off := i*c.Stride + jc + jr
			if kernel == nil {
				kernel = t.kernel
			} else if cols == nr {
				kernel(kb, ap, rs, ks, bp, &c.Data[off], c.Stride, alpha, beta, ldb)
				i += rows
				continue
			}
			// A partial tile: compute it whole into the scratch tile, then
			// copy out the part that exists.
			tile := buf.tile[:mr*nr]
			kernel(kb, ap, rs, ks, bp, &tile[0], nr, alpha, 0, ldb)
			for r := 0; r < rows; r++ {
				dst := c.Data[off+r*c.Stride : off+r*c.Stride+cols]
				src := tile[r*nr : r*nr+cols]
				if beta == 0 {
					copy(dst, src)
					continue
				}
				for j, v := range src {
					dst[j] = math.FMA(beta, dst[j], v) // as the kernel rounds
				}
			}
			i += rows
		}
	}
}

// readsBInPlace reports whether the kernel should read op(B) = B's rows
// in place rather than packed: for a product of at most one block of rows
// (m ≤ mc), which would use each packed panel once, so that packing it
// costs as much as reading it (the dense assembly's 65- and 129-row products
// ran 15% and 8% faster in place), and where B's rows do not alias in L1
// (a stride of 32 values, 256 bytes, or a multiple puts them in a quarter
// of the sets or fewer).
func readsBInPlace(tB blas.Transpose, b blas64.General, m, mc int) bool {
	return tB == blas.NoTrans && m <= mc && b.Stride%32 != 0
}

// packA stores rows [i0, i0+rows) and columns [p0, p0+kb) of op(A), rows ≤
// mr, in dst as one panel of mr rows, each column contiguous, zero-padded:
// a row tile of a block whose rows alias, or the last rows of one, which
// the kernel cannot read in place without running off the end of A.
func packA(dst []float64, mr int, t blas.Transpose, a blas64.General, i0, rows, p0, kb int) {
	panel := dst[:mr*kb]
	if rows < mr {
		clear(panel)
	}
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
	if t == blas.NoTrans {
		// Row by row of B, each read once from start to end into every
		// full panel: panel by panel, the rows' short pieces, a stride
		// apart, would each load new lines.
		full := nb / nr * nr
		for p := 0; p < kb; p++ {
			o := (p0+p)*b.Stride + j0
			row := b.Data[o : o+full : o+full]
			if nr == 16 {
				// Through a value: an array assignment between slices may
				// overlap, so it compiles to a call to memmove; this one
				// to eight 16-byte loads and stores (15% faster than
				// element by element).
				for jr := 0; jr < full; jr += 16 {
					v := *(*[16]float64)(row[jr:])
					*(*[16]float64)(dst[jr*kb+p*16:]) = v
				}
				continue
			}
			for jr := 0; jr < full; jr += nr {
				src := row[jr : jr+nr : jr+nr]
				d := dst[jr*kb+p*nr : jr*kb+p*nr+nr : jr*kb+p*nr+nr]
				for j, v := range src {
					d[j] = v
				}
			}
		}
		if cols := nb - full; cols > 0 {
			// A partial panel: plain loops, as copy and clear would make
			// two calls per row for a few values.
			panel := dst[full*kb : full*kb+nr*kb]
			for p := 0; p < kb; p++ {
				src := b.Data[(p0+p)*b.Stride+j0+full : (p0+p)*b.Stride+j0+nb]
				d := panel[p*nr : p*nr+nr]
				for j, v := range src {
					d[j] = v
				}
				for j := cols; j < nr; j++ {
					d[j] = 0
				}
			}
		}
		return
	}
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : jr*kb+nr*kb]
		cols := min(nr, nb-jr)
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
