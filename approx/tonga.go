package approx

import (
	"cmp"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/gemm"
	"github.com/curvkit/curvkit/internal/symeig"
)

// Residual selects the diagonal TONGA adds to its low-rank covariance.
type Residual int

const (
	// NoResidual keeps C̃ = U Uᵀ, as in TONGA; damping supplies the rest.
	NoResidual Residual = iota
	// IsotropicResidual adds d·I per block, d the mean discarded variance.
	IsotropicResidual
	// DiagonalResidual adds each coordinate's discarded variance, so diag(C̃)
	// is that of the untruncated covariance.
	DiagonalResidual
)

// TONGASettings configure NewTONGA. The zero value is rank 5, 5 columns
// between compressions, discount 0.995, centered, no residual and the
// default budget.
type TONGASettings struct {
	Rank    int // k, the columns kept per block at a compression; 0: 5
	Refresh int // b, gradients between compressions (≤ k+b columns); 0: 5
	// Discount is γ in (0, 1], the weight of the past at each gradient (1:
	// the plain mean); 0 means 0.995.
	Discount float64
	// Uncentered uses the discounted second moment (the empirical Fisher
	// at γ = 1) instead of the centered covariance.
	Uncentered bool
	Residual   Residual
	Budget     int // floats; 0: curvature.DefaultBudget, negative: none
}

// TONGA is the online low-rank gradient covariance of Le Roux, Manzagol &
// Bengio (2008), block-diagonal over a partition. Each gradient comes with
// weight 1 and discounts the past by γ; the centered scatter follows
//
//	S_t = γ S_{t−1} + (γW_{t−1}/W_t) (g_t − μ_{t−1})(g_t − μ_{t−1})ᵀ,  W_t = γW_{t−1} + 1
//
// (γ S_{t−1} + g_t g_tᵀ, the paper's, when Uncentered), S = X Xᵀ per block
// with X cut to its top k directions every b gradients. C̃ = X Xᵀ/W (+ a
// residual diagonal) is solved as LowRank is; Add changes it.
type TONGA struct {
	*BlockDiagonal
	set    TONGASettings
	n      int
	index  [][]int
	blocks []*tongaBlock

	w         float64   // W, the total weight
	mean      []float64 // μ
	diagS     []float64 // diag S, exact (for the residual)
	col       []float64 // the new scaled gradient
	cols      int       // columns in use in every block
	truncated bool      // a compression has dropped variance
	added     int
}

type tongaBlock struct {
	x    *mat.Dense    // n_b × (k+b) storage; the first cols columns are X
	gram *mat.SymDense // (k+b)×(k+b) storage of XᵀX
	lr   *LowRank
	h    []float64 // work: Xᵀ col
	d    []float64 // residual diagonal
}

// tongaSettings returns s (nil: the zero value) checked and with its
// defaults filled in: the one place they are.
func tongaSettings(s *TONGASettings) (TONGASettings, error) {
	var set TONGASettings
	if s != nil {
		set = *s
	}
	switch {
	case set.Rank < 0 || set.Refresh < 0:
		return set, fmt.Errorf("approx: TONGA rank %d and refresh %d must be ≥ 0", set.Rank, set.Refresh)
	case math.IsNaN(set.Discount) || set.Discount < 0 || set.Discount > 1:
		return set, fmt.Errorf("approx: TONGA discount %v must be in (0, 1]", set.Discount)
	case set.Residual < NoResidual || set.Residual > DiagonalResidual:
		return set, fmt.Errorf("approx: unknown TONGA residual %d", set.Residual)
	}
	set.Rank = cmp.Or(set.Rank, 5)
	set.Refresh = cmp.Or(set.Refresh, 5)
	set.Discount = cmp.Or(set.Discount, 0.995)
	return set, nil
}

// floats returns what NewTONGA allocates with these (defaulted) settings
// on the partition index: per block b an n_b×(k+b) column buffer and a
// (k+b)×(k+b) Gram matrix, and 4n for the mean, the exact diagonal, the
// new column and the residual,
//
//	Σ_b n_b(k+b) + (k+b)² + 4n,  n = Σ_b n_b.
//
// The estimate's Floats is smaller: n·c + n for the c ≤ k+b−1 columns in
// use, n·k + n after a compression.
func (s TONGASettings) floats(index [][]int) int {
	n := 0
	for _, idx := range index {
		n += len(idx)
	}
	kb := s.Rank + s.Refresh
	return n*kb + len(index)*kb*kb + 4*n
}

// NewTONGA returns an empty estimator on the partition index (see Ranges;
// index sets are allowed). It returns an error for a bad partition or
// settings and a *curvature.BudgetError when Σ n_b(k+b) + (k+b)² per block
// + 4n floats exceed the budget.
func NewTONGA(index [][]int, s *TONGASettings) (*TONGA, error) {
	set, err := tongaSettings(s)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, idx := range index {
		n += len(idx)
	}
	if _, err := checkPartition(index, n); err != nil {
		return nil, err
	}
	kb := set.Rank + set.Refresh
	if err := curvature.CheckFloats("TONGA", set.floats(index), set.Budget); err != nil {
		return nil, err
	}
	t := &TONGA{set: set, n: n, mean: make([]float64, n), diagS: make([]float64, n), col: make([]float64, n)}
	apps := make([]Approximation, len(index))
	t.index = make([][]int, len(index))
	for b, idx := range index {
		t.index[b] = append([]int(nil), idx...)
		nb := len(idx)
		blk := &tongaBlock{
			x:    mat.NewDense(nb, kb, nil),
			gram: mat.NewSymDense(kb, nil),
			h:    make([]float64, kb),
			d:    make([]float64, nb),
			lr:   &LowRank{n: nb},
		}
		blk.lr.set(nil, 0, blk.d)
		t.blocks = append(t.blocks, blk)
		apps[b] = blk.lr
	}
	bd, err := NewBlockDiagonal(apps, index)
	if err != nil {
		return nil, err
	}
	t.BlockDiagonal = bd
	return t, nil
}

// Settings returns the settings with defaults filled in.
func (t *TONGA) Settings() TONGASettings { return t.set }

// Weight returns W, the discounted number of gradients (Σ γ^age).
func (t *TONGA) Weight() float64 { return t.w }

// Count returns the number of gradients added.
func (t *TONGA) Count() int { return t.added }

// Mean returns μ, the discounted mean gradient. It must not be modified.
func (t *TONGA) Mean() []float64 { return t.mean }

// Add folds one gradient (per sample or per mini-batch) into the estimate.
// It returns an error, leaving the estimate unchanged, when g is not
// finite; it panics when len(g) is not the number of parameters.
func (t *TONGA) Add(g []float64) error {
	if len(g) != t.n {
		panic(fmt.Sprintf("approx: TONGA gradient of length %d for %d parameters", len(g), t.n))
	}
	if err := checkFiniteVec("gradient", g); err != nil {
		return err
	}
	gamma := t.set.Discount
	wPrev := t.w
	t.w = gamma*wPrev + 1
	coef := 1.0
	if t.set.Uncentered {
		copy(t.col, g)
	} else {
		coef = math.Sqrt(gamma * wPrev / t.w)
		for i, x := range g {
			t.col[i] = coef * (x - t.mean[i])
		}
	}
	for i, x := range g {
		t.mean[i] = (gamma*wPrev*t.mean[i] + x) / t.w
	}
	for i, x := range t.col {
		t.diagS[i] = gamma*t.diagS[i] + x*x
	}
	t.added++
	appendCol := coef != 0 // the first centered gradient carries no spread
	sg := math.Sqrt(gamma)
	for b, blk := range t.blocks {
		blk.discount(t.cols, gamma, sg)
		if appendCol {
			blk.append(t.cols, t.col, t.index[b])
		}
	}
	if appendCol {
		t.cols++
	}
	if t.cols == t.set.Rank+t.set.Refresh {
		if err := t.compress(); err != nil {
			return err
		}
	}
	t.publish()
	return nil
}

// Compress truncates every block to its top Rank eigen-directions now
// rather than when the column buffer is full.
func (t *TONGA) Compress() error {
	if err := t.compress(); err != nil {
		return err
	}
	t.publish()
	return nil
}

func (t *TONGA) compress() error {
	k := min(t.set.Rank, t.cols)
	if k == t.cols {
		return nil
	}
	for b, blk := range t.blocks {
		if err := blk.compress(t.cols, k); err != nil {
			return fmt.Errorf("approx: TONGA block %d: %w", b, err)
		}
	}
	t.cols = k
	t.truncated = true
	return nil
}

// publish hands the current X, 1/W and residual to each block's LowRank.
func (t *TONGA) publish() {
	for b, blk := range t.blocks {
		for i := range blk.d {
			blk.d[i] = 0
		}
		if t.truncated && t.set.Residual != NoResidual {
			var sum float64
			for i, gi := range t.index[b] {
				var kept float64
				for _, x := range blk.x.RawRowView(i)[:t.cols] {
					kept += x * x
				}
				blk.d[i] = max(t.diagS[gi]-kept, 0) / t.w
				sum += blk.d[i]
			}
			if t.set.Residual == IsotropicResidual {
				mean := sum / float64(len(blk.d))
				for i := range blk.d {
					blk.d[i] = mean
				}
			}
		}
		c := 0.0
		if t.w > 0 {
			c = 1 / t.w
		}
		if t.cols == 0 {
			blk.lr.set(nil, c, blk.d)
			continue
		}
		nb, _ := blk.x.Dims()
		blk.lr.set(blk.x.Slice(0, nb, 0, t.cols).(*mat.Dense), c, blk.d)
	}
}

// discount scales X and its Gram matrix for one step of γ.
func (blk *tongaBlock) discount(cols int, gamma, sg float64) {
	nb, _ := blk.x.Dims()
	for i := 0; i < nb; i++ {
		row := blk.x.RawRowView(i)[:cols]
		for j := range row {
			row[j] *= sg
		}
	}
	for i := 0; i < cols; i++ {
		for j := i; j < cols; j++ {
			blk.gram.SetSym(i, j, gamma*blk.gram.At(i, j))
		}
	}
}

// append adds col[idx] as column cols of X and extends the Gram matrix
// with Xᵀcol (TONGA's incremental Gram update).
func (blk *tongaBlock) append(cols int, col []float64, idx []int) {
	h := blk.h[:cols+1]
	for j := range h {
		h[j] = 0
	}
	for i, gi := range idx {
		x := col[gi]
		row := blk.x.RawRowView(i)
		row[cols] = x
		for j := 0; j <= cols; j++ {
			h[j] += row[j] * x
		}
	}
	for j, v := range h {
		blk.gram.SetSym(j, cols, v)
	}
}

// compress keeps the top k eigen-directions of X Xᵀ: X ← X V_k, G ← XᵀX.
func (blk *tongaBlock) compress(cols, k int) error {
	var es symeig.EigenSym
	if !es.Factorize(blk.gram.SliceSym(0, cols), true) {
		return fmt.Errorf("eigendecomposition of the Gram matrix failed")
	}
	var v mat.Dense
	es.VectorsTo(&v)
	top := v.Slice(0, cols, cols-k, cols) // eigenvalues ascend
	nb, _ := blk.x.Dims()
	xv := mat.NewDense(nb, k, nil)
	gemm.Mul(xv, blas.NoTrans, blk.x.Slice(0, nb, 0, cols).(*mat.Dense), blas.NoTrans, mat.DenseCopyOf(top))
	blk.x.Slice(0, nb, 0, k).(*mat.Dense).Copy(xv)
	// Recompute the Gram matrix of the new columns (diagonal up to
	// rounding) rather than trusting the eigenvalues.
	g := blk.gram.SliceSym(0, k).(*mat.SymDense)
	gemm.Syrk(blas.Trans, 1, xv.RawMatrix(), 0, g.RawSymmetric())
	return nil
}

// NaturalGradientTo stores (C̃ + λI)⁻¹ μ in dst, the natural gradient
// direction for the discounted mean gradient.
func (t *TONGA) NaturalGradientTo(dst []float64, lambda float64) error {
	return t.SolveDampedTo(dst, t.mean, lambda)
}
