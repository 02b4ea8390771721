package gemm

import (
	"math"

	"gonum.org/v1/gonum/blas/blas64"
)

// Corr is the geometry of a two-dimensional correlation with stride 1 and
// no padding (a convolution's, as PyTorch computes it) of a C×H×W input,
// flattened row-major in a sample's row, with KH×KW kernels, which
// CorrForward and CorrGrad compute without unfolding the input's patches.
// Its OH×OW = (H−KH+1)×(W−KW+1) output locations (a, b) read the input
// entries x[c, a+i, b+j], that is x[off(p) + a·W + b] for the k = C·KH·KW
// patch entries p = (c·KH + i)·KW + j, off(p) = (c·H + i)·W + j. A padded
// convolution is the correlation of its zero-padded input.
type Corr struct {
	C, H, W, KH, KW int
}

// dims returns the output's height and width and the patch length, and
// panics unless they are positive.
func (c Corr) dims() (oh, ow, k int) {
	oh, ow, k = c.H-c.KH+1, c.W-c.KW+1, c.C*c.KH*c.KW
	if c.C <= 0 || c.KH <= 0 || c.KW <= 0 || oh <= 0 || ow <= 0 {
		panic("gemm: bad correlation")
	}
	return oh, ow, k
}

// offsets stores off(p) for every patch entry in buf.off and returns it.
func (c Corr) offsets(buf *corrWork) []int {
	_, _, k := c.dims()
	if cap(buf.off) < k {
		buf.off = make([]int, k)
	}
	off := buf.off[:k]
	p := 0
	for ch := 0; ch < c.C; ch++ {
		for i := 0; i < c.KH; i++ {
			for j := 0; j < c.KW; j++ {
				off[p] = (ch*c.H+i)*c.W + j
				p++
			}
		}
	}
	return off
}

// HasCorr reports whether CorrForward and CorrGrad run the assembly
// kernels of this CPU (AVX-512). Without them they run their pure-Go
// twins, which are exact but not fast: unfolding the patches and
// multiplying with Gemm is then faster.
func HasCorr() bool { return corrFwdKernel != nil }

// The assembly kernels' signatures (corr_amd64.s); corrFwdKernel and
// corrDotKernel are nil without them.
type (
	corrFwdFunc func(k int, w *float64, ldw int, off *int, x *float64, xpos *[4]int, masks *[4]uint16, y *float64, ldy int, ypos *[4]int, rows int, flags int)
	corrDotFunc func(ns int, gr *float64, gs, ldg int, x *float64, xs, ldx int, off *[4]int, oh, nfull, tail int, lanes *float64, add int)
)

// corrGroup is a tile's 4 vectors of 8 output locations: vector t starts at
// location ypos[t] of a channel and reads x from xpos[t] + Off[p], its lanes
// outside masks[t] being off (mask 0: a vector that does not exist).
type corrGroup struct {
	xpos, ypos [4]int
	masks      [4]uint16
}

// The tiles: 6 channels by 4 vectors of output locations for CorrForward,
// 6 channels by 4 patch entries for CorrGrad, whose lanes (8 per pair) the
// caller sums.
const (
	corrRows  = 6
	corrCols  = 4
	corrLanes = corrRows * corrCols * 8
)

// CorrForward stores in row s of y, for every sample s (row of x), the m
// output channels of the correlation with the kernels in the rows of w,
// ldw apart, channel-major:
//
//	y[s, o·OH·OW + a·OW + b] = Σ_p w[o·ldw + p]·x[s, off(p) + a·W + b]  (+ w[o·ldw + k] if bias)
//
// adding the sum to what y holds when add is true. Each entry sums its
// products in the order of p with fused multiply-adds, then the bias, then
// y: the order Gemm's kernels take in a product of the unfolded patches by
// Wᵀ, so the two agree to the bit when k < 256.
func CorrForward(c Corr, y blas64.General, w []float64, ldw, m int, bias, add bool, x blas64.General) {
	oh, ow, k := c.dims()
	R := oh * ow
	c.check(x, m)
	if y.Rows != x.Rows || y.Cols < m*R || ldw < k || len(w) < (m-1)*ldw+k+b2i(bias) || short(y) {
		panic("gemm: bad shapes")
	}
	buf := getCorrWork()
	defer putCorrWork(buf)
	off := c.offsets(buf)
	// The kernels, bias last, in rows of k+1, padded with zero rows to
	// whole tiles, so that a tile never reads beyond them.
	mp := (m + corrRows - 1) / corrRows * corrRows
	wp := grow(&buf.w, mp*(k+1))
	clear(wp)
	for o := 0; o < m; o++ {
		copy(wp[o*(k+1):], w[o*ldw:o*ldw+k])
		if bias {
			wp[o*(k+1)+k] = w[o*ldw+k]
		}
	}
	groups := c.groups(buf)
	flags := b2i(bias) | 2*b2i(add)
	for s := 0; s < x.Rows; s++ {
		xs, ys := x.Data[s*x.Stride:], y.Data[s*y.Stride:]
		for o0 := 0; o0 < m; o0 += corrRows {
			rows := min(corrRows, m-o0)
			for gi := range groups {
				g := &groups[gi]
				if corrFwdKernel != nil {
					corrFwdKernel(k, &wp[o0*(k+1)], k+1, &off[0], &xs[0], &g.xpos, &g.masks, &ys[o0*R], R, &g.ypos, rows, flags)
					continue
				}
				corrFwdGo(k, wp[o0*(k+1):], k+1, off, xs, g.xpos, g.masks, ys[o0*R:], R, g.ypos, rows, flags)
			}
		}
	}
}

// CorrGrad stores in d the weight gradient of the correlation for the
// output gradients g (a row per sample, its m channels as CorrForward
// stores them) and the inputs x:
//
//	d[o·ldd + p] = Σ_s Σ_{a,b} g[s, o·OH·OW + a·OW + b]·x[s, off(p) + a·W + b]
//
// for o < m, p < k, adding the sums to what d holds when add is true. The
// sums are taken in another order than a product of the unfolded patches:
// 8 running sums over the locations, added pairwise at the end.
func CorrGrad(c Corr, d []float64, ldd, m int, add bool, g, x blas64.General) {
	oh, ow, k := c.dims()
	R := oh * ow
	c.check(x, m)
	if g.Rows != x.Rows || g.Cols < m*R || ldd < k || len(d) < (m-1)*ldd+k || short(g) {
		panic("gemm: bad shapes")
	}
	buf := getCorrWork()
	defer putCorrWork(buf)
	off := c.offsets(buf)
	nfull, rem := ow/8, ow%8
	nv, tail := nfull, 0
	if rem > 0 {
		nv, tail = nfull+1, 1<<rem-1
	}
	// The tiles of channels read the output gradients in place, but for
	// those that must be padded, copied into buf.g: all of them when rows
	// of locations are not whole vectors (each is padded with zeros), else
	// a last partial tile (padded with zero rows).
	ldg, mp := oh*8*nv, (m+corrRows-1)/corrRows*corrRows
	otiles, ptiles := mp/corrRows, (k+corrCols-1)/corrCols
	pad0 := otiles
	switch {
	case rem > 0:
		pad0 = 0
	case mp > m:
		pad0 = otiles - 1
	}
	gsz, block := (otiles-pad0)*corrRows*ldg, x.Rows
	if gsz > 0 {
		block = max(1, min(x.Rows, blockFloats/gsz))
	}
	lanes := grow(&buf.lanes, otiles*ptiles*corrLanes)
	for s0 := 0; s0 < x.Rows; s0 += block {
		ns := min(block, x.Rows-s0)
		gp := grow(&buf.g, ns*gsz)
		clear(gp)
		for s := 0; s < ns; s++ {
			for o := pad0 * corrRows; o < m; o++ {
				src := g.Data[(s0+s)*g.Stride+o*R:]
				dst := gp[s*gsz+(o-pad0*corrRows)*ldg:]
				for a := 0; a < oh; a++ {
					copy(dst[a*8*nv:a*8*nv+ow], src[a*ow:a*ow+ow])
				}
			}
		}
		for ot := 0; ot < otiles; ot++ {
			gt, gs := gp[max(0, ot-pad0)*corrRows*ldg:], gsz
			if ot < pad0 {
				gt, gs = g.Data[s0*g.Stride+ot*corrRows*ldg:], g.Stride
			}
			for pt := 0; pt < ptiles; pt++ {
				var offs [corrCols]int
				for j := range offs {
					offs[j] = off[min(pt*corrCols+j, k-1)]
				}
				tile, xs := lanes[(ot*ptiles+pt)*corrLanes:], x.Data[s0*x.Stride:]
				if corrDotKernel != nil {
					corrDotKernel(ns, &gt[0], gs, ldg, &xs[0], x.Stride, c.W, &offs, oh, nfull, tail, &tile[0], b2i(s0 > 0))
					continue
				}
				corrDotGo(ns, gt, gs, ldg, xs, x.Stride, c.W, offs, oh, nfull, tail, tile, s0 > 0)
			}
		}
	}
	for ot := 0; ot < otiles; ot++ {
		for pt := 0; pt < ptiles; pt++ {
			tile := lanes[(ot*ptiles+pt)*corrLanes:]
			for i := 0; i < corrRows && ot*corrRows+i < m; i++ {
				for j := 0; j < corrCols && pt*corrCols+j < k; j++ {
					// Pairwise: the additions of a sequential sum wait on
					// each other, which took longer than the products on a
					// sample's 64 locations.
					l := tile[(corrCols*i+j)*8 : (corrCols*i+j)*8+8 : (corrCols*i+j)*8+8]
					s := ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
					at := (ot*corrRows+i)*ldd + pt*corrCols + j
					if add {
						s += d[at]
					}
					d[at] = s
				}
			}
		}
	}
}

// blockFloats bounds the padded output gradients CorrGrad keeps at once.
const blockFloats = 1 << 15

// check panics unless x has rows of C·H·W inputs and m is positive.
func (c Corr) check(x blas64.General, m int) {
	if m <= 0 || x.Cols != c.C*c.H*c.W || short(x) {
		panic("gemm: bad shapes")
	}
}

// short reports whether a's data is shorter than its shape says: the
// kernels read and write through pointers.
func short(a blas64.General) bool {
	return a.Rows > 0 && (a.Stride < a.Cols || len(a.Data) < (a.Rows-1)*a.Stride+a.Cols)
}

// groups returns the output locations in tiles of 4 vectors: each row of
// locations is cut into vectors of 8, the last one partial, and the last
// tile is filled with vectors whose mask is 0.
func (c Corr) groups(buf *corrWork) []corrGroup {
	oh, ow, _ := c.dims()
	nv := (ow + 7) / 8
	n := (oh*nv + corrCols - 1) / corrCols
	if cap(buf.groups) < n {
		buf.groups = make([]corrGroup, n)
	}
	groups := buf.groups[:n]
	clear(groups)
	v := 0
	for a := 0; a < oh; a++ {
		for b := 0; b < ow; b += 8 {
			g := &groups[v/corrCols]
			t := v % corrCols
			g.xpos[t], g.ypos[t] = a*c.W+b, a*ow+b
			g.masks[t] = uint16(1)<<min(8, ow-b) - 1
			v++
		}
	}
	return groups
}

// corrWork is CorrForward's and CorrGrad's work space, kept between calls
// as the packing space of Gemm is.
type corrWork struct {
	w, g, lanes []float64
	off         []int
	groups      []corrGroup
}

var corrWorks = make(chan *corrWork, 4)

func getCorrWork() *corrWork {
	select {
	case b := <-corrWorks:
		return b
	default:
		return &corrWork{}
	}
}

func putCorrWork(b *corrWork) {
	select {
	case corrWorks <- b:
	default:
	}
}

// grow returns (*s)[:n], reallocated when it is too short.
func grow(s *[]float64, n int) []float64 {
	if cap(*s) < n {
		*s = make([]float64, n)
	}
	return (*s)[:n]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// corrFwdGo is the pure-Go twin of corrFwd6x4, on slices: the same sums
// in the same order (lanes outside a vector's mask are not computed, the
// kernel's being discarded).
func corrFwdGo(k int, w []float64, ldw int, off []int, x []float64, xpos [4]int, masks [4]uint16, y []float64, ldy int, ypos [4]int, rows int, flags int) {
	for o := 0; o < rows; o++ {
		for t := 0; t < corrCols; t++ {
			for l := 0; l < 8; l++ {
				if masks[t]&(1<<l) == 0 {
					continue
				}
				s := 0.0
				for p := 0; p < k; p++ {
					s = math.FMA(x[xpos[t]+off[p]+l], w[o*ldw+p], s)
				}
				if flags&1 != 0 {
					s += w[o*ldw+k]
				}
				at := o*ldy + ypos[t] + l
				if flags&2 != 0 {
					s += y[at]
				}
				y[at] = s
			}
		}
	}
}

// corrDotGo is the pure-Go twin of corrDot6x4, on slices.
func corrDotGo(ns int, g []float64, gs, ldg int, x []float64, xs, ldx int, off [4]int, oh, nfull, tail int, lanes []float64, add bool) {
	if !add {
		clear(lanes[:corrLanes])
	}
	nv := nfull
	if tail != 0 {
		nv++
	}
	for s := 0; s < ns; s++ {
		for a := 0; a < oh; a++ {
			for v := 0; v < nv; v++ {
				for l := 0; l < 8; l++ {
					for o := 0; o < corrRows; o++ {
						gv := g[s*gs+o*ldg+(a*nv+v)*8+l]
						for j := 0; j < corrCols; j++ {
							xv := 0.0
							if v < nfull || tail&(1<<l) != 0 {
								xv = x[s*xs+off[j]+a*ldx+8*v+l]
							}
							at := (corrCols*o+j)*8 + l
							lanes[at] = math.FMA(xv, gv, lanes[at])
						}
					}
				}
			}
		}
	}
}
