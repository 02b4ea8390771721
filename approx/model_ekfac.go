package approx

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/gemm"
)

// ModelEKFAC returns the EKFAC of m's curvature at θ on the batch: the K-FAC
// of ModelKFAC (kept as EKFAC.KFAC) with its Kronecker blocks' scales
// re-estimated in their eigenbasis from the same passes, per layer
//
//	S_l = w Σ_u (Δ_u Q_G)^∘2ᵀ (Ā Q_A)^∘2     (p×q, w the weight of G),
//
// the diagonal of Q_lᵀ M_ll Q_l for the matrix M the factors estimate (as
// EKFACOf(basis, M)), never farther from M than the K-FAC. s.Budget also
// bounds the scales.
func ModelEKFAC(m *curvature.Model, theta []float64, b curvature.Batch, s *KFACSettings) (*EKFAC, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	k, err := NewKFAC(m.Net, s)
	if err != nil {
		return nil, err
	}
	if err := curvature.CheckFloats("EKFAC", k.Floats()+ekfacFloats(k.blocks), k.set.Budget); err != nil {
		return nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	grads := make([][]*mat.Dense, len(k.blocks))
	var weight float64
	err = k.pass.run(k.dest, 0, t, b.Y, &k.set, k.rng, func(blk int, g *mat.Dense, w float64) {
		grads[blk] = append(grads[blk], mat.DenseCopyOf(g))
		weight = w
	})
	if err != nil {
		return nil, err
	}
	if err := k.finish(false); err != nil {
		return nil, err
	}
	scales := make([][]float64, len(k.blocks))
	err = k.eachBlock(func(p Approximation) error {
		kr, ok := p.(*Kron)
		if !ok {
			return nil
		}
		if err := kr.refactor(0); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for bi, kr := range k.krons {
		if kr == nil {
			continue
		}
		e, err := kr.basis()
		if err != nil {
			return nil, err
		}
		scales[bi] = eigenScales(e, k.pass.abar[bi], grads[bi], k.blocks[bi].r, weight)
	}
	return newEKFAC(k, scales, nil)
}

// eigenScales returns w Σ_u Σ_n (Q_Gᵀ (Σ_r g_{n,r} ā_{n,r}ᵀ) Q_A)^∘2
// (row-major p×q) for the Kronecker inputs abar ((N·R)×q) and the
// gradients of each output vector ((N·R)×p).
func eigenScales(e *kronEig, abar *mat.Dense, grads []*mat.Dense, r int, w float64) []float64 {
	rows, q := abar.Dims()
	p := len(e.lg)
	s := make([]float64, p*q)
	sl := blas64.General{Rows: p, Cols: q, Stride: q, Data: s}
	za := mat.NewDense(rows, q, nil)
	za.Mul(abar, e.qa)
	yg := mat.NewDense(rows, p, nil)
	if r == 1 {
		square(za)
		for _, g := range grads {
			yg.Mul(g, e.qg)
			square(yg)
			gemm.Gemm(blas.Trans, blas.NoTrans, w, yg.RawMatrix(), za.RawMatrix(), 1, sl)
		}
		return s
	}
	// Several positions: each sample's projected gradient is a sum over
	// them, to be squared as a whole.
	per := mat.NewDense(p, q, nil)
	for _, g := range grads {
		yg.Mul(g, e.qg)
		for n := 0; n < rows/r; n++ {
			per.Mul(yg.Slice(n*r, (n+1)*r, 0, p).T(), za.Slice(n*r, (n+1)*r, 0, q))
			for i, x := range per.RawMatrix().Data {
				s[i] += w * x * x
			}
		}
	}
	return s
}

// square squares every entry of m in place.
func square(m *mat.Dense) {
	raw := m.RawMatrix()
	for i := 0; i < raw.Rows; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		for j, x := range row {
			row[j] = x * x
		}
	}
}
