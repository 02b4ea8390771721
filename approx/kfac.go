package approx

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/enum"
	"github.com/curvkit/curvkit/internal/vec"
)

// FactorKind selects the output vectors K-FAC backpropagates for its G factors
// (and for the exact blocks of layers without Kronecker structure). Its zero
// value is ExactFactors here and MCFactors in secondorder's K-FAC.
type FactorKind int

const (
	// DefaultFactors is the user's default.
	DefaultFactors FactorKind = iota
	// ExactFactors backpropagates every column of the output Fisher's factor
	// (nn.FisherLoss's, else the output-Hessian factor): "KFLR" (Botev et
	// al. 2017), one backward pass per network output.
	ExactFactors
	// MCFactors backpropagates gradients at labels sampled from the model
	// (Martens & Grosse 2015), an unbiased estimate of the exact factor.
	MCFactors
	// EmpiricalFactors backpropagates gradients at the true labels: the empirical
	// Fisher's factor.
	EmpiricalFactors
)

var factorKindNames = [...]string{"default", "exact", "mc", "empirical"}

func (k FactorKind) String() string { return enum.Name(k, factorKindNames[:], "FactorKind") }

// ParseFactorKind returns the FactorKind named exact, mc or empirical.
func ParseFactorKind(name string) (FactorKind, error) {
	// "default" is not a kind a user names.
	if k, ok := enum.Parse(name, factorKindNames[:], ExactFactors); ok {
		return k, nil
	}
	return 0, fmt.Errorf("approx: unknown K-FAC factor kind %q (want exact, mc or empirical)", name)
}

// WeightSharing selects one of the two K-FACs (Eschenhagen et al. 2023) of a
// layer that applies its weights at R positions of a sample:
//
//	Expand  A = 1/(N·R) Σ_{n,r} ā ā ᵀ,                G = 1/N Σ_{n,r} g gᵀ
//	Reduce  A = 1/(N·R²) Σ_n (Σ_r ā)(Σ_r ā)ᵀ,          G = 1/N Σ_n (Σ_r g)(Σ_r g)ᵀ
type WeightSharing int

const (
	Expand WeightSharing = iota
	Reduce
)

// KFACSettings configure K-FAC and EKFAC. The zero value is exact factors,
// exact damping through eigendecompositions and the default memory budget.
type KFACSettings struct {
	Factors FactorKind // 0: ExactFactors
	Samples int        // labels per input for MCFactors; 0: 1
	Rand    *rand.Rand // draws the MCFactors labels; nil: seeded with Seed
	Seed    uint64

	WeightSharing WeightSharing // for layers with several positions
	Damping       Damping       // what Kronecker blocks invert
	Solver        FactorSolver  // how; other blocks invert B + λI
	// Budget bounds the floats held (p² + q² per Kronecker layer, P_l² or
	// P_l per other), checked before allocating; 0 means
	// curvature.DefaultBudget, negative no limit.
	Budget int
}

func (s *KFACSettings) check() error {
	if s.Samples < 0 {
		return fmt.Errorf("approx: %d Monte-Carlo samples; want at least 1", s.Samples)
	}
	if s.WeightSharing != Expand && s.WeightSharing != Reduce {
		return fmt.Errorf("approx: unknown weight sharing %d", s.WeightSharing)
	}
	if s.Factors < DefaultFactors || s.Factors > EmpiricalFactors {
		return fmt.Errorf("approx: unknown K-FAC factor kind %d", s.Factors)
	}
	return s.kron().check()
}

func (s *KFACSettings) kron() KronSettings {
	return KronSettings{Damping: s.Damping, Solver: s.Solver}
}

// KFAC is Kronecker-factored approximate curvature (Martens & Grosse 2015):
// a BlockDiagonal of G⊗A per nn.Kronecker layer and the exact block of every
// other layer. Update folds batches into its statistics in place;
// SolveDampedTo keeps the factorisation Factorize last made (§8).
type KFAC struct {
	*BlockDiagonal
	set    KFACSettings
	rng    *rand.Rand
	pcg    *rand.PCG // rng's source when K-FAC made it, for MarshalBinary
	net    *nn.Network
	blocks []netBlock
	krons  []*Kron // per block, nil unless the block is Kronecker
	parts  []Approximation
	dest   []blockDest
	pass   *statPass
	// unsure is set when the statistics may not be what finiteSum needs
	// of old values: after a failed Update, or a load of negative
	// diagonals.
	unsure bool
}

var _ Approximation = (*KFAC)(nil)

// NewKFAC returns a K-FAC for net's layers whose statistics are all zero
// until Update adds some. It checks the settings and the memory budget
// before it allocates, and returns an error for a network without
// parameters or a Kronecker layer whose shape does not fit its parameters.
func NewKFAC(net *nn.Network, s *KFACSettings) (*KFAC, error) {
	var set KFACSettings
	if s != nil {
		set = *s
	}
	if err := set.check(); err != nil {
		return nil, err
	}
	blocks, err := networkBlocks(net)
	if err != nil {
		return nil, err
	}
	return newKFAC(net, blocks, set)
}

// newKFAC returns the K-FAC of zero statistics on the blocks, with set
// checked.
func newKFAC(net *nn.Network, blocks []netBlock, set KFACSettings) (*KFAC, error) {
	floats := 0
	for _, b := range blocks {
		floats += b.floats()
	}
	if err := curvature.CheckFloats("K-FAC", floats, set.Budget); err != nil {
		return nil, err
	}
	set.Samples = cmp.Or(set.Samples, 1)
	if set.Factors == DefaultFactors {
		set.Factors = ExactFactors
	}
	k := &KFAC{set: set, net: net, blocks: blocks, rng: set.Rand,
		krons: make([]*Kron, len(blocks)), parts: make([]Approximation, len(blocks)), dest: make([]blockDest, len(blocks))}
	if k.rng == nil {
		k.pcg = rand.NewPCG(set.Seed, 0)
		k.rng = rand.New(k.pcg)
	}
	sizes := make([]int, len(blocks))
	for i, b := range blocks {
		sizes[i] = b.size()
		switch b.structure {
		case nn.KroneckerBlock:
			kr := newKron(b.p, b.q, set.kron())
			k.krons[i], k.parts[i] = kr, kr
			k.dest[i] = blockDest{g: kr.g.RawSymmetric(), a: kr.a.RawSymmetric()}
		case nn.DiagonalBlock:
			d := &Diagonal{d: make([]float64, b.size())}
			k.parts[i], k.dest[i] = d, blockDest{d: d.d}
		default:
			m := &SymMatrix{m: mat.NewSymDense(b.size(), nil)}
			k.parts[i], k.dest[i] = m, blockDest{m: m.m.RawSymmetric()}
		}
	}
	var err error
	if k.BlockDiagonal, err = NewBlockDiagonal(k.parts, Ranges(sizes...)); err != nil {
		return nil, err
	}
	k.pass = newStatPass(blocks)
	return k, nil
}

// ModelKFAC returns the K-FAC of m's curvature at θ on the batch from one
// forward pass and the backward passes of s.Factors,
//
//	A_l = (1/(N·R)) Σ_{n,r} ā ā ᵀ   (q×q, ā the layer's Kronecker inputs)
//	G_l = (1/N) Σ_{n,r} g gᵀ        (p×p, g = ∂ℓ_n/∂s_r along each output vector)
//
// (weighted means with sample weights), exactly the Fisher block for one
// sample, one position and exact factors.
func ModelKFAC(m *curvature.Model, theta []float64, b curvature.Batch, s *KFACSettings) (*KFAC, error) {
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	k, err := NewKFAC(m.Net, s)
	if err != nil {
		return nil, err
	}
	t := nn.NewTape(m.Net, m.Loss)
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	if err := k.Update(t, b.Y, 0); err != nil {
		return nil, err
	}
	if k.set.Solver == EigenSolver {
		err := k.eachBlock(func(p Approximation) error {
			if kr, ok := p.(*Kron); ok {
				return kr.refactor(0)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Update stores ε·F + (1−ε)·F_batch in every statistic F, in place, with
// F_batch that of the batch (weighted by its sample weights) the tape of
// K-FAC's network has run Forward on, y its targets: Martens & Grosse's
// running averages. It returns an error for ε outside [0, 1) and for an
// output factor with negative columns (statistics unchanged), and, wrapping
// curvature.ErrNonFinite, for non-finite statistics (then unusable until
// an Update with ε = 0 succeeds).
func (k *KFAC) Update(t *nn.Tape, y *mat.Dense, decay float64) error {
	if !(decay >= 0 && decay < 1) {
		return fmt.Errorf("approx: running-average weight %v; want it in [0, 1)", decay)
	}
	if t.Net != k.net {
		panic("approx: K-FAC update from a tape of another network")
	}
	if err := k.pass.run(k.dest, decay, t, y, &k.set, k.rng, nil); err != nil {
		return err
	}
	return k.finish(decay > 0)
}

// finish marks the Kronecker factors' lower triangles stale (the
// statistics were written to the upper ones) and checks that every
// statistic is finite: through the diagonals (finiteSum) when the old
// values the run folded into (readOld) were such sums, entry by entry
// otherwise.
func (k *KFAC) finish(readOld bool) error {
	for _, kr := range k.krons {
		if kr != nil {
			kr.mu.Lock()
			kr.lowerStale = true
			kr.mu.Unlock()
		}
	}
	var err error
	if readOld && k.unsure {
		err = k.checkStats()
	} else {
		err = k.checkSums()
	}
	k.unsure = err != nil || !k.diagonalsNonNegative()
	return err
}

// checkSums is checkStats after a statistics pass into statistics that
// finiteSum applies to.
func (k *KFAC) checkSums() error {
	for i, d := range k.dest {
		c := k.pass.coef[i]
		if !finiteSum(d.g, c) || !finiteSum(d.a, c) || !finiteSum(d.m, c) || !vec.AllFinite(d.d) {
			return fmt.Errorf("approx: %w: K-FAC statistics of layer %d: %s", curvature.ErrNonFinite, k.blocks[i].layer, d.firstNonFinite())
		}
	}
	return nil
}

// diagonalsNonNegative reports whether the diagonals of the factors and
// dense blocks are all ≥ 0, as those of sums of outer products are.
func (k *KFAC) diagonalsNonNegative() bool {
	for _, d := range k.dest {
		for _, m := range []blas64.Symmetric{d.g, d.a, d.m} {
			for i := 0; i < m.N; i++ {
				if !(m.Data[i*m.Stride+i] >= 0) {
					return false
				}
			}
		}
	}
	return true
}

// finiteSum reports whether the upper triangle of m = ε·m_old + Σ c_u·S_u
// is finite, m_old finite with a non-negative diagonal and each S_u =
// Σ_n x xᵀ a sum of outer products folded in with a coefficient c_u ≥ c >
// 0, from m's diagonal where that settles it: |Σ_n x_i x_j| ≤ (Σ_n x_i² + Σ_n x_j²)/2, so while every
// diagonal entry is finite and at most c·MaxFloat64/4, no sum, not even a
// partial one inside a product, can have overflowed, and a NaN or an
// infinity among the x shows on the diagonal. Otherwise (or for a negative
// diagonal, which no such sum has) it scans the whole triangle.
func finiteSum(m blas64.Symmetric, c float64) bool {
	limit := c * (math.MaxFloat64 / 4)
	for i := 0; i < m.N; i++ {
		if v := m.Data[i*m.Stride+i]; !(v >= 0 && v <= limit) {
			return finiteUpper(m)
		}
	}
	return true
}

// checkStats returns an error wrapping curvature.ErrNonFinite that names
// the first statistic that is NaN or infinite.
func (k *KFAC) checkStats() error {
	for i, d := range k.dest {
		if !finiteUpper(d.g) || !finiteUpper(d.a) || !finiteUpper(d.m) || !vec.AllFinite(d.d) {
			return fmt.Errorf("approx: %w: K-FAC statistics of layer %d: %s", curvature.ErrNonFinite, k.blocks[i].layer, d.firstNonFinite())
		}
	}
	return nil
}

// firstNonFinite describes the first statistic of d that is NaN or
// infinite, and its value, for an error message.
func (d blockDest) firstNonFinite() string {
	for _, s := range []struct {
		name string
		m    blas64.Symmetric
	}{{"G", d.g}, {"A", d.a}, {"block", d.m}} {
		for i := 0; i < s.m.N; i++ {
			for j := i; j < s.m.N; j++ {
				if v := s.m.Data[i*s.m.Stride+j]; math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Sprintf("%s[%d, %d] = %v", s.name, i, j, v)
				}
			}
		}
	}
	for i, v := range d.d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("diagonal[%d] = %v", i, v)
		}
	}
	return "no value"
}

// finiteUpper reports whether the upper triangle of m is finite.
func finiteUpper(m blas64.Symmetric) bool {
	for i := 0; i < m.N; i++ {
		if !vec.AllFinite(m.Data[i*m.Stride+i : i*m.Stride+m.N]) {
			return false
		}
	}
	return true
}

// Factorize recomputes, from the current statistics, the factorisations
// SolveDampedTo uses with damping λ (for the eigen solver they do not
// depend on λ), on up to GOMAXPROCS goroutines. It returns an error
// wrapping curvature.ErrNotPositiveDefinite when a damped block is not
// positive definite.
func (k *KFAC) Factorize(lambda float64) error {
	if err := checkLambda(lambda); err != nil {
		return err
	}
	return k.eachBlock(func(p Approximation) error {
		if r, ok := p.(interface{ refactor(float64) error }); ok {
			return r.refactor(lambda)
		}
		return nil
	})
}

// eachBlock runs f on every block, on up to GOMAXPROCS goroutines (the
// blocks are independent, and a factorisation is the dear part of K-FAC),
// and returns the first block's error.
func (k *KFAC) eachBlock(f func(Approximation) error) error {
	errs := make([]error, len(k.parts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range k.parts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f(p)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("approx: K-FAC layer %d: %w", k.blocks[i].layer, err)
		}
	}
	return nil
}

// Kron returns block b's Kronecker product, or nil when layer b has no
// Kronecker structure.
func (k *KFAC) Kron(b int) *Kron { return k.krons[b] }

// Settings returns the settings with defaults filled in.
func (k *KFAC) Settings() KFACSettings { return k.set }
