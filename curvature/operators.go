package curvature

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// Operator returns the curvature matrix kind of m at θ on the batch as a
// matrix-free operator: each product costs a few passes over the batch and
// no P×P storage. The forward and backward passes are done once, here; the
// operator keeps its own copy of θ but shares the batch, which must not
// change while the operator is in use. An operator may be shared between
// goroutines: its products take turns (they share the passes' work
// space), so for products in parallel build one operator per goroutine.
//
// Hessian products use the R-operator (forward-over-reverse), GGN products
// J_iᵀ H_z,i J_i v, Fisher products J_iᵀ F_z,i J_i v (the GGN's unless the
// loss is an nn.FisherLoss); the empirical Fisher, Monte-Carlo Fisher and
// gradient covariance multiply through the Jacobian by the per-sample
// output gradients, Σ w_i J_iᵀ r_i r_iᵀ J_i v / Σ w_i, without forming
// per-sample gradients.
func (m *Model) Operator(kind Kind, theta []float64, b Batch, opt *Options) (MatMuler, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if err := m.Validate(theta, b); err != nil {
		return nil, err
	}
	theta = append([]float64(nil), theta...)
	t, _ := m.tape(theta, b, nil)
	n := b.Len()
	C := m.Net.OutSize()
	switch kind {
	case Hessian:
		return &netOp{tape: t, mul: t.HessVec}, nil
	case GGN:
		return &netOp{tape: t, mul: t.GGNVec}, nil
	case Fisher:
		return &netOp{tape: t, mul: t.FisherVec}, nil
	case EmpiricalFisher, GradientCovariance:
		r := mat.NewDense(n, C, nil)
		m.Loss.Grad(r, t.Z(), b.Y)
		op := &gramOp{netOp: netOp{tape: t}, r: []*mat.Dense{r}, scale: 1 / b.weightSum()}
		op.mul = op.gramVec
		if kind == GradientCovariance {
			// ḡ = Σ w_i J_iᵀ r_i / Σ w_i, the gradient of the mean loss.
			op.mean = make([]float64, m.Net.NumParams())
			t.Backward(op.mean, nil, b.Y)
		}
		sqrtWeigh(r, b.W)
		return op, nil
	case MCFisher:
		k := opt.samples()
		ys, err := m.sampleTargets(theta, b, k, opt)
		if err != nil {
			return nil, err
		}
		rs := make([]*mat.Dense, k)
		for s, y := range ys {
			rs[s] = mat.NewDense(n, C, nil)
			m.Loss.Grad(rs[s], t.Z(), y)
			sqrtWeigh(rs[s], b.W)
		}
		op := &gramOp{netOp: netOp{tape: t}, r: rs, scale: 1 / (b.weightSum() * float64(k))}
		op.mul = op.gramVec
		return op, nil
	}
	return nil, fmt.Errorf("curvature: unknown matrix kind %v", kind)
}

// netOp multiplies through a tape that holds one forward (and backward)
// pass. Products write the tape's and the operator's work space, so mu
// makes them take turns.
type netOp struct {
	mu   sync.Mutex
	tape *nn.Tape
	mul  func(dst, v []float64)
	col  []float64
	out  []float64
}

func (o *netOp) Dim() int { return o.tape.Net.NumParams() }

func (o *netOp) MulVecTo(dst, v []float64) {
	if len(dst) != o.Dim() || len(v) != o.Dim() {
		panic(fmt.Sprintf("curvature: vectors of length %d and %d for an operator of dimension %d", len(dst), len(v), o.Dim()))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mul(dst, v)
}

// MulMatTo multiplies column by column, reusing the stored passes.
func (o *netOp) MulMatTo(dst *mat.Dense, v mat.Matrix) {
	n := o.Dim()
	k := mulMatDims(dst, n, v)
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.col) != n {
		o.col, o.out = make([]float64, n), make([]float64, n)
	}
	for j := 0; j < k; j++ {
		mat.Col(o.col, j, v)
		o.mul(o.out, o.col)
		dst.SetCol(j, o.out)
	}
}

// gramOp is scale·Σ_s Σ_i J_iᵀ r_s,i r_s,iᵀ J_i, minus mean meanᵀ when mean
// is set.
type gramOp struct {
	netOp
	r     []*mat.Dense // per-sample output gradients, N×C each
	scale float64
	mean  []float64
	jv, u *mat.Dense
}

func (o *gramOp) gramVec(dst, v []float64) {
	n := o.tape.BatchSize()
	C := o.tape.Net.OutSize()
	if o.jv == nil {
		o.jv, o.u = mat.NewDense(n, C, nil), mat.NewDense(n, C, nil)
	}
	o.tape.JVP(o.jv, v)
	o.u.Zero()
	for _, r := range o.r {
		for i := 0; i < n; i++ {
			ri := r.RawRowView(i)
			c := floats.Dot(ri, o.jv.RawRowView(i))
			floats.AddScaled(o.u.RawRowView(i), c, ri)
		}
	}
	o.tape.VJP(dst, o.u)
	floats.Scale(o.scale, dst)
	if o.mean != nil {
		floats.AddScaled(dst, -floats.Dot(o.mean, v), o.mean)
	}
}

// Restrict returns the diagonal block [lo, hi) of op as an operator of
// dimension hi − lo: v ↦ (M ṽ)[lo:hi] with ṽ the zero-padded v. Each
// product costs one product with op (which sees vectors of its own
// dimension); with the ranges of Model.ParamBlocks it gives a layer's
// block of any curvature matrix without forming it. It panics unless
// 0 ≤ lo < hi ≤ op.Dim(). The block keeps two work vectors of op's
// dimension and is not safe for concurrent use.
func Restrict(op Operator, lo, hi int) Operator {
	if n := op.Dim(); lo < 0 || hi > n || lo >= hi {
		panic(fmt.Sprintf("curvature: block [%d, %d) of an operator of dimension %d", lo, hi, n))
	}
	return &restricted{op: op, lo: lo, hi: hi, vin: make([]float64, op.Dim()), out: make([]float64, op.Dim())}
}

// restricted is the diagonal block [lo, hi) of an operator.
type restricted struct {
	op       Operator
	lo, hi   int
	vin, out []float64
}

func (r *restricted) Dim() int { return r.hi - r.lo }

func (r *restricted) MulVecTo(dst, v []float64) {
	if len(dst) != r.hi-r.lo || len(v) != r.hi-r.lo {
		panic(fmt.Sprintf("curvature: vectors of length %d and %d for a block of dimension %d", len(dst), len(v), r.hi-r.lo))
	}
	clear(r.vin)
	copy(r.vin[r.lo:r.hi], v)
	r.op.MulVecTo(r.out, r.vin)
	copy(dst, r.out[r.lo:r.hi])
}
