package nn

import (
	"cmp"
	"fmt"
)

// window is the geometry of a two-dimensional sliding window over a C×H×W
// input (one sample a row, C×H×W row-major as PyTorch stores it): kernel
// kh×kw, stride sh×sw and zero padding ph×pw on each side, giving an
// oh×ow output per channel. Conv2d and the pooling layers share it.
type window struct {
	c, h, w int
	kh, kw  int
	sh, sw  int
	ph, pw  int
	oh, ow  int
}

// newWindow returns the geometry of the given sizes. A stride of 0 in a
// direction is replaced by defStride. The output size along an axis is
// ⌊(n + 2p − k)/s⌋ + 1 as in PyTorch (ceil_mode off), or 0 when the kernel
// does not fit the padded input.
func newWindow(c, h, w int, kernel, stride, padding [2]int, defStride [2]int) window {
	g := window{c: c, h: h, w: w, kh: kernel[0], kw: kernel[1], sh: stride[0], sw: stride[1], ph: padding[0], pw: padding[1]}
	g.sh = cmp.Or(g.sh, defStride[0])
	g.sw = cmp.Or(g.sw, defStride[1])
	g.oh, g.ow = outLen(h, g.kh, g.sh, g.ph), outLen(w, g.kw, g.sw, g.pw)
	return g
}

func outLen(n, k, s, p int) int {
	if n <= 0 || k <= 0 || s <= 0 || p < 0 || n+2*p < k {
		return 0
	}
	return (n+2*p-k)/s + 1
}

// check returns an error naming the sizes when the geometry does not fit.
func (g window) check(what string) error {
	switch {
	case g.c <= 0 || g.h <= 0 || g.w <= 0:
		return fmt.Errorf("%s: input %d×%d×%d; sizes must be positive", what, g.c, g.h, g.w)
	case g.kh <= 0 || g.kw <= 0:
		return fmt.Errorf("%s: kernel %d×%d; sizes must be positive", what, g.kh, g.kw)
	case g.sh <= 0 || g.sw <= 0:
		return fmt.Errorf("%s: stride %d×%d; strides must be positive", what, g.sh, g.sw)
	case g.ph < 0 || g.pw < 0:
		return fmt.Errorf("%s: padding %d×%d; padding must not be negative", what, g.ph, g.pw)
	case g.kh > g.h+2*g.ph || g.kw > g.w+2*g.pw:
		return fmt.Errorf("%s: kernel %d×%d is larger than the padded input %d×%d", what, g.kh, g.kw, g.h+2*g.ph, g.w+2*g.pw)
	}
	return nil
}

// inSize returns C·H·W.
func (g window) inSize() int { return g.c * g.h * g.w }

// positions returns the output locations per channel, oh·ow.
func (g window) positions() int { return g.oh * g.ow }

// span returns the output positions [lo, hi) along one axis whose input
// index o·s + k − p lies in [0, n), for kernel offset k.
func span(k, s, p, n, out int) (lo, hi int) {
	if k < p {
		lo = min(out, (p-k+s-1)/s)
	}
	last := n - 1 - k + p // the largest o·s allowed
	if last < 0 {
		return lo, lo
	}
	hi = min(out, last/s+1)
	return lo, max(lo, hi)
}

// im2col stores the patches of one sample x (C·H·W long) in col as the
// (C·kh·kw)×R matrix, R = oh·ow, with rows ld apart, whose row
// (c·kh + i)·kw + j holds, for each output location r = a·ow + b, the input
// x[c, a·sh + i − ph, b·sw + j − pw] (zero in the padding).
func (g window) im2col(col []float64, ld int, x []float64) {
	if g.ph > 0 || g.pw > 0 {
		R := g.positions()
		for k := 0; k < g.c*g.kh*g.kw; k++ {
			clear(col[k*ld : k*ld+R])
		}
	}
	g.runs(col, ld, x, false)
}

// col2imAdd adds to dx (C·H·W long) the adjoint of im2col applied to col,
// (C·kh·kw)×R with rows ld apart: every entry of col goes back to the input
// entry it was copied from, entries in the padding are dropped.
func (g window) col2imAdd(dx, col []float64, ld int) { g.runs(col, ld, dx, true) }

// runs copies every run of a row of the patch matrix col that lies inside
// the input x (outside the padding) from x, or adds it to x when add is
// true: the run of patch row (ch, i, j) and output row a is col[b] ↔
// x[ch, a·sh + i − ph, b·sw + j − pw] for the b whose input lies inside.
// The runs are short (a row of output locations), so they are copied four
// entries at a time inline: copy's call to memmove, or a call to a loop,
// cost more than the copying.
func (g window) runs(col []float64, ld int, x []float64, add bool) {
	R := g.positions()
	for ch := 0; ch < g.c; ch++ {
		plane := x[ch*g.h*g.w : (ch+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			alo, ahi := span(i, g.sh, g.ph, g.h, g.oh)
			for j := 0; j < g.kw; j++ {
				blo, bhi := span(j, g.sw, g.pw, g.w, g.ow)
				if blo == bhi {
					continue
				}
				row := col[((ch*g.kh+i)*g.kw+j)*ld:][:R]
				n := bhi - blo
				for a := alo; a < ahi; a++ {
					c := row[a*g.ow+blo:][:n]
					in := plane[(a*g.sh+i-g.ph)*g.w+blo*g.sw+j-g.pw:]
					if g.sw != 1 {
						if add {
							for b, v := range c {
								in[b*g.sw] += v
							}
						} else {
							for b := range c {
								c[b] = in[b*g.sw]
							}
						}
						continue
					}
					in = in[:n]
					b := 0
					if add {
						for ; b+4 <= n; b += 4 {
							d, s := in[b:b+4:b+4], c[b:b+4:b+4]
							d[0] += s[0]
							d[1] += s[1]
							d[2] += s[2]
							d[3] += s[3]
						}
						for ; b < n; b++ {
							in[b] += c[b]
						}
						continue
					}
					for ; b+4 <= n; b += 4 {
						d, s := c[b:b+4:b+4], in[b:b+4:b+4]
						d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
					}
					for ; b < n; b++ {
						c[b] = in[b]
					}
				}
			}
		}
	}
}
