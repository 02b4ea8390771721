package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// DefaultLayerNormEps is the ε of a LayerNorm whose Eps is zero, PyTorch's
// default.
const DefaultLayerNormEps = 1e-5

// LayerNorm normalises over the last dimension with an element-wise affine
// map, as torch.nn.LayerNorm(D) does: a sample's row of Size features is
// split into Size/D consecutive groups of D (D = Size for a feature vector;
// for a C×H×W tensor flattened in PyTorch's order and D = W, one group per
// (c, h)), and each group x is mapped to
//
//	y = γ ⊙ x̂ + β,  x̂ = (x − μ)/√(σ² + ε),  μ = mean(x),  σ² = mean((x − μ)²),
//
// with the biased variance σ² PyTorch uses and γ, β of length D shared by
// the groups. Its parameters are [γ; β] (2D).
//
// With r = 1/√(σ² + ε) the Jacobian of x̂ in x is r (I − 11ᵀ/D − x̂x̂ᵀ/D),
// symmetric, so both JVP and VJP apply it: J v = r (v − mean(v) − x̂
// mean(x̂ ⊙ v)). The normalisation is not linear, so the layer has a
// second-order term in x as well as the mixed γ–x terms (see
// SecondOrderVJP).
type LayerNorm struct {
	// Size is the number of features of a sample's row.
	Size int
	// Normalized is D, the size of each normalised group; it must divide
	// Size. If Normalized is 0, it defaults to Size.
	Normalized int
	// Eps is ε, added to the variance. If Eps is 0, it defaults to
	// DefaultLayerNormEps.
	Eps float64
}

var (
	_ Structurer = LayerNorm{}
	_ Validator  = LayerNorm{}
)

// InSize returns Size.
func (l LayerNorm) InSize() int { return l.Size }

// OutSize returns Size.
func (l LayerNorm) OutSize() int { return l.Size }

// NumParams returns 2D.
func (l LayerNorm) NumParams() int { return 2 * l.d() }

// BlockStructure returns DenseBlock: the block has no Kronecker form, and
// with 2D parameters (D the size of one normalised group, not of the whole
// row) it is as small as a dense layer's input factor A, so approximations
// keep it exact.
func (l LayerNorm) BlockStructure() Structure { return DenseBlock }

// Validate returns an error when D does not divide Size or ε is negative or
// not finite.
func (l LayerNorm) Validate() error {
	d := l.d()
	if d <= 0 || l.Size%d != 0 {
		return fmt.Errorf("nn: layer norm over groups of %d does not divide %d features", d, l.Size)
	}
	if !(l.Eps >= 0) || math.IsInf(l.Eps, 1) {
		return fmt.Errorf("nn: layer norm ε is %v; want a finite ε ≥ 0 (0 means %v)", l.Eps, DefaultLayerNormEps)
	}
	return nil
}

func (l LayerNorm) d() int {
	if l.Normalized == 0 {
		return l.Size
	}
	return l.Normalized
}

func (l LayerNorm) eps() float64 {
	if l.Eps == 0 {
		return DefaultLayerNormEps
	}
	return l.Eps
}

// Init sets γ = 1 and β = 0, as PyTorch does.
func (l LayerNorm) Init(theta []float64, _ Activation, _ *rand.Rand) {
	g, b := l.params(theta)
	fill(g, 1)
	clear(b)
}

// params returns γ and β as views of θ.
func (l LayerNorm) params(theta []float64) (gamma, beta []float64) {
	if err := l.Validate(); err != nil {
		panic(err.Error())
	}
	d := l.d()
	if len(theta) != 2*d {
		panic(fmt.Sprintf("nn: layer norm over %d features has %d parameters, got %d", d, 2*d, len(theta)))
	}
	return theta[:d:d], theta[d:]
}

// groups calls f for every normalised group of every row of x, with the
// group's x̂ (in a buffer reused between calls), r = 1/√(σ² + ε), its row i
// and its first column.
func (l LayerNorm) groups(x *mat.Dense, f func(xhat []float64, r float64, i, c int)) {
	n, cols := x.Dims()
	if cols != l.Size {
		panic(fmt.Sprintf("nn: layer norm of %d features given %d columns", l.Size, cols))
	}
	d, eps := l.d(), l.eps()
	xhat := make([]float64, d)
	xr := x.RawMatrix()
	for i := 0; i < n; i++ {
		xi := row(xr.Data, xr.Stride, i, l.Size)
		for c := 0; c < l.Size; c += d {
			xg := xi[c : c+d]
			mu := 0.0
			for _, v := range xg {
				mu += v
			}
			mu /= float64(d)
			v2 := 0.0
			for j, v := range xg {
				xhat[j] = v - mu
				v2 += xhat[j] * xhat[j]
			}
			r := 1 / math.Sqrt(v2/float64(d)+eps)
			for j := range xhat {
				xhat[j] *= r
			}
			f(xhat, r, i, c)
		}
	}
}

// normJVP stores J v = r (v − mean(v) − x̂ mean(x̂ ⊙ v)) in dst (which may
// alias v), J the Jacobian of x̂ in x, and returns mean(x̂ ⊙ v).
func normJVP(dst, xhat, v []float64, r float64) float64 {
	d := float64(len(xhat))
	mv, a := 0.0, 0.0
	for j, vj := range v {
		mv += vj
		a += xhat[j] * vj
	}
	mv /= d
	a /= d
	for j, vj := range v {
		dst[j] = r * (vj - mv - xhat[j]*a)
	}
	return a
}

// Forward stores γ ⊙ x̂ + β in y.
func (l LayerNorm) Forward(y, x *mat.Dense, theta []float64) {
	gamma, beta := l.params(theta)
	d, yr := l.d(), y.RawMatrix()
	l.groups(x, func(xhat []float64, _ float64, i, c int) {
		yg := yr.Data[i*yr.Stride+c : i*yr.Stride+c+d]
		for j, v := range xhat {
			yg[j] = gamma[j]*v + beta[j]
		}
	})
}

// JVP stores γ ⊙ J dx + dγ ⊙ x̂ + dβ in dy, group by group.
func (l LayerNorm) JVP(dy, x, _ *mat.Dense, theta []float64, dx *mat.Dense, dtheta []float64) {
	gamma, _ := l.params(theta)
	var dgamma, dbeta []float64
	if dtheta != nil {
		dgamma, dbeta = l.params(dtheta)
	}
	d, dyr := l.d(), dy.RawMatrix()
	l.groups(x, func(xhat []float64, r float64, i, c int) {
		out := dyr.Data[i*dyr.Stride+c : i*dyr.Stride+c+d]
		if dx != nil {
			dxr := dx.RawMatrix()
			normJVP(out, xhat, dxr.Data[i*dxr.Stride+c:i*dxr.Stride+c+d], r)
			for j := range out {
				out[j] *= gamma[j]
			}
		} else {
			clear(out)
		}
		if dtheta != nil {
			for j, v := range xhat {
				out[j] += dgamma[j]*v + dbeta[j]
			}
		}
	})
}

// VJP stores J (γ ⊙ g) in dx and [Σ g ⊙ x̂; Σ g] over groups and samples in
// dθ.
func (l LayerNorm) VJP(dx *mat.Dense, dtheta []float64, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	gamma, _ := l.params(theta)
	var dgamma, dbeta []float64
	if dtheta != nil {
		dgamma, dbeta = l.params(dtheta)
		clear(dtheta)
	}
	d, gr := l.d(), g.RawMatrix()
	l.groups(x, func(xhat []float64, r float64, i, c int) {
		gg := gr.Data[i*gr.Stride+c : i*gr.Stride+c+d]
		if dx != nil {
			dxr := dx.RawMatrix()
			out := dxr.Data[i*dxr.Stride+c : i*dxr.Stride+c+d]
			for j, v := range gg {
				out[j] = gamma[j] * v
			}
			normJVP(out, xhat, out, r)
		}
		if dtheta != nil {
			for j, v := range gg {
				dgamma[j] += v * xhat[j]
				dbeta[j] += v
			}
		}
	})
}

// PerSampleVJP stores [Σ g_i ⊙ x̂_i; Σ g_i] over sample i's groups in row i
// of dst.
func (l LayerNorm) PerSampleVJP(dst *mat.Dense, x, _ *mat.Dense, theta []float64, g *mat.Dense) {
	l.params(theta)
	d, gr, dr := l.d(), g.RawMatrix(), dst.RawMatrix()
	l.groups(x, func(xhat []float64, _ float64, i, c int) {
		out := dr.Data[i*dr.Stride : i*dr.Stride+2*d]
		if c == 0 {
			clear(out)
		}
		gg := gr.Data[i*gr.Stride+c : i*gr.Stride+c+d]
		for j, v := range gg {
			out[j] += v * xhat[j]
			out[d+j] += v
		}
	})
}

// SecondOrderVJP adds the derivative along (dx, dγ, dβ) of the VJPs with g
// fixed. With h = γ ⊙ g the input VJP of a group is
//
//	r (h − mean(h) − x̂ m),  m = mean(x̂ ⊙ h),
//
// and with a = mean(x̂ ⊙ dx), so that dr = −r² a and dx̂ = J dx, and
// dh = dγ ⊙ g, its derivative is
//
//	−r² a (h − mean(h) − x̂ m) + r (dh − mean(dh) − dx̂ m − x̂ dm),
//	dm = mean(dx̂ ⊙ h + x̂ ⊙ dh),
//
// added to rdx; the parameter VJP [Σ g ⊙ x̂; Σ g] changes only through x̂,
// so Σ g ⊙ dx̂ is added to rdγ. β enters linearly and adds nothing.
func (l LayerNorm) SecondOrderVJP(rdx *mat.Dense, rdtheta []float64, x, _ *mat.Dense, theta []float64, g, dx *mat.Dense, dtheta []float64) {
	gamma, _ := l.params(theta)
	var dgamma, rdgamma []float64
	if dtheta != nil {
		dgamma, _ = l.params(dtheta)
	}
	if rdtheta != nil {
		rdgamma, _ = l.params(rdtheta)
	}
	if dx == nil && (dgamma == nil || rdx == nil) {
		return // nothing depends on β, and γ reaches only the input VJP
	}
	d, fd := l.d(), float64(l.d())
	gr := g.RawMatrix()
	h, dh, dxhat := make([]float64, d), make([]float64, d), make([]float64, d)
	l.groups(x, func(xhat []float64, r float64, i, c int) {
		gg := gr.Data[i*gr.Stride+c : i*gr.Stride+c+d]
		a := 0.0
		if dx != nil {
			dxr := dx.RawMatrix()
			a = normJVP(dxhat, xhat, dxr.Data[i*dxr.Stride+c:i*dxr.Stride+c+d], r)
		} else {
			clear(dxhat)
		}
		if rdgamma != nil && dx != nil {
			for j, v := range gg {
				rdgamma[j] += v * dxhat[j]
			}
		}
		if rdx == nil {
			return
		}
		var mh, m, mdh, dm float64
		for j, v := range gg {
			h[j] = gamma[j] * v
			dh[j] = 0
			if dgamma != nil {
				dh[j] = dgamma[j] * v
			}
			mh += h[j]
			m += xhat[j] * h[j]
			mdh += dh[j]
			dm += dxhat[j]*h[j] + xhat[j]*dh[j]
		}
		mh, m, mdh, dm = mh/fd, m/fd, mdh/fd, dm/fd
		rr := rdx.RawMatrix()
		out := rr.Data[i*rr.Stride+c : i*rr.Stride+c+d]
		dr := -r * r * a
		for j := range out {
			out[j] += dr*(h[j]-mh-xhat[j]*m) + r*(dh[j]-mdh-dxhat[j]*m-xhat[j]*dm)
		}
	})
}
