package secondorder

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/numerr"
	"github.com/curvkit/curvkit/internal/vec"
)

// KFACSettings configure the K-FAC optimizer. The zero value is valid.
type KFACSettings struct {
	Damping                float64 // initial λ; 0: 1e-2
	MinDamping, MaxDamping float64 // bounds of the adapted λ; 0: min(1e-3, Damping) and 1e4
	FixedDamping           bool    // keep λ constant
	DampingInterval        int     // T₃, steps between updates of λ; 0: 5
	WeightDecay            float64 // η, adding η/2‖θ‖² to the objective

	Factors         approx.FactorKind    // how G is estimated; 0: approx.MCFactors
	WeightSharing   approx.WeightSharing // convolutions: approx.Expand (0) or approx.Reduce
	StatsInterval   int                  // T₁, steps between factor statistics; 0: 1
	StatsFraction   float64              // fraction of the batch (first rows) for statistics; 0: 0.25
	Decay           float64              // largest weight ε of the running averages; 0: 0.95
	InverseInterval int                  // T₂, steps between refactorisations; 0: 20

	// ModelTrust caps the model's predicted decrease at that fraction of
	// the loss, shortening the step; 0: 0.5, negative: no cap.
	ModelTrust     float64
	ModelFraction  float64 // fraction of the batch (first rows) for the model's curvature and ρ; 0: 0.25
	NormConstraint float64 // if positive, the bound on δᵀFδ (Ba et al. 2017)

	// Rand draws the Monte-Carlo labels; nil: a generator seeded with
	// Seed, which Save saves (a caller's Rand is not saved).
	Rand *rand.Rand
	Seed uint64

	Budget int // floats of the factors; 0: curvature.DefaultBudget, < 0: no limit
}

func (s *KFACSettings) defaults() error {
	check := settingCheck("KFACSettings")
	if err := numerr.First(
		check("Damping", s.Damping, s.Damping >= 0 && !math.IsInf(s.Damping, 0), "must be finite and ≥ 0"),
		check("MinDamping", s.MinDamping, s.MinDamping >= 0 && !math.IsInf(s.MinDamping, 0), "must be finite and ≥ 0"),
		check("MaxDamping", s.MaxDamping, s.MaxDamping >= 0 && !math.IsInf(s.MaxDamping, 0), "must be finite and ≥ 0"),
		check("DampingInterval", float64(s.DampingInterval), s.DampingInterval >= 0, "must be ≥ 0"),
		check("WeightDecay", s.WeightDecay, s.WeightDecay >= 0 && !math.IsInf(s.WeightDecay, 0), "must be finite and ≥ 0"),
		check("StatsInterval", float64(s.StatsInterval), s.StatsInterval >= 0, "must be ≥ 0"),
		check("StatsFraction", s.StatsFraction, s.StatsFraction >= 0 && s.StatsFraction <= 1, "must be in [0, 1]"),
		check("Decay", s.Decay, s.Decay >= 0 && s.Decay < 1, "must be in [0, 1)"),
		check("ModelTrust", s.ModelTrust, !math.IsInf(s.ModelTrust, 0), "must be finite"),
		check("ModelFraction", s.ModelFraction, s.ModelFraction >= 0 && s.ModelFraction <= 1, "must be in [0, 1]"),
		check("InverseInterval", float64(s.InverseInterval), s.InverseInterval >= 0, "must be ≥ 0"),
		check("NormConstraint", s.NormConstraint, s.NormConstraint >= 0, "must be ≥ 0"),
		check("WeightSharing", float64(s.WeightSharing), s.WeightSharing == approx.Expand || s.WeightSharing == approx.Reduce, "must be approx.Expand or approx.Reduce"),
	); err != nil {
		return err
	}
	if err := dampingRange("KFACSettings", &s.Damping, &s.MinDamping, &s.MaxDamping, 1e-2, 1e-3); err != nil {
		return err
	}
	s.DampingInterval = cmp.Or(s.DampingInterval, 5)
	s.StatsInterval = cmp.Or(s.StatsInterval, 1)
	s.StatsFraction = cmp.Or(s.StatsFraction, 0.25)
	s.Decay = cmp.Or(s.Decay, 0.95)
	s.ModelFraction = cmp.Or(s.ModelFraction, 0.25)
	if s.Factors == approx.DefaultFactors {
		s.Factors = approx.MCFactors
	}
	s.ModelTrust = cmp.Or(s.ModelTrust, 0.5)
	s.InverseInterval = cmp.Or(s.InverseInterval, 20)
	return nil
}

// KFAC is the K-FAC optimizer of Martens & Grosse (2015). Each step
// preconditions the gradient by the Kronecker-factored Fisher of every
// layer with factored Tikhonov damping,
//
//	Δ = −[(G_l + √γ/π_l I) ⊗ (A_l + π_l√γ I)]⁻¹ g,   γ = λ + η,
//
// and takes δ = αΔ + μδ_prev with α, μ minimising the quadratic model
// ½δᵀ(F + γI)δ + gᵀδ on the batch. Every T₃ steps λ is adapted from ρ and a
// step that raised the loss is undone. The factors, running averages
// updated every T₁ steps and refactorised every T₂, live in one approx.KFAC;
// layers without Kronecker structure get their exact block.
type KFAC struct {
	model *curvature.Model
	set   KFACSettings
	curv  *approx.KFAC // the running statistics and their damped inverse

	step, updates int
	lambda        float64
	factored      bool    // whether curv holds a factorisation
	gamma         float64 // the γ it was damped with
	sub           *nn.Tape
	rhoTape       *nn.Tape // the loss after a step on the model's rows, when they are part of the batch
	subRows       int
	subStep       int
	prev          []float64 // δ_prev
	delta, grad   []float64
	good          []float64 // θ at the start of the step, restored when the step is undone
	tape          *nn.Tape
	jv, jp, hv    *mat.Dense
}

// NewKFAC returns a K-FAC optimizer for m.
func NewKFAC(m *curvature.Model, s *KFACSettings) (*KFAC, error) {
	set, err := optimizerSettings("K-FAC", m, s)
	if err != nil {
		return nil, err
	}
	curv, err := approx.NewKFAC(m.Net, &approx.KFACSettings{Factors: set.Factors, Rand: set.Rand, Seed: set.Seed,
		WeightSharing: set.WeightSharing, Damping: approx.FactoredDamping, Solver: approx.CholeskySolver, Budget: set.Budget})
	if err != nil {
		return nil, err
	}
	k := &KFAC{model: m, set: set, curv: curv, lambda: set.Damping, tape: nn.NewTape(m.Net, m.Loss)}
	P := m.Net.NumParams()
	k.prev, k.delta, k.grad = make([]float64, P), make([]float64, P), make([]float64, P)
	k.good = make([]float64, P)
	return k, nil
}

// Lambda returns the current damping λ.
func (k *KFAC) Lambda() float64 { return k.lambda }

// Curvature returns the K-FAC the optimizer keeps, factorised with damping
// Gamma. It must not be modified.
func (k *KFAC) Curvature() *approx.KFAC { return k.curv }

// Gamma returns γ = λ + η, the damping of the last factorisation.
func (k *KFAC) Gamma() float64 { return k.gamma }

// Step takes one K-FAC step on the batch, updating θ in place. Bad data, or
// a loss or gradient that is not finite at θ, return an error with θ
// unchanged; a step that makes θ or the loss non-finite is undone and
// returns an error.
func (k *KFAC) Step(theta []float64, b curvature.Batch) (Record, error) {
	m := k.model
	rec := newRecord(k.step + 1)
	if err := m.Validate(theta, b); err != nil {
		return rec, err
	}
	set := &k.set
	for _, c := range []struct {
		name string
		frac float64
	}{{"StatsFraction", set.StatsFraction}, {"ModelFraction", set.ModelFraction}} {
		if err := prefixWeight(b, fractionRows(c.frac, b.Len()), c.name); err != nil {
			return rec, fmt.Errorf("secondorder: K-FAC step %d: %w", k.step+1, err)
		}
	}
	k.step++
	rec.Lambda = k.lambda
	eta := set.WeightDecay
	gamma := k.lambda + eta

	t := k.tape
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	h0 := t.LossValue(b.Y) + k.decayTerm(theta)
	t.Backward(k.grad, nil, b.Y)
	if eta != 0 {
		floats.AddScaled(k.grad, eta, theta)
	}
	rec.Loss = h0
	rec.Spent.Func++
	rec.Spent.Grad++
	if !finite(h0) || !vec.AllFinite(k.grad) {
		// θ is the caller's: leave it, and drop the momentum, which
		// belongs to the trajectory that led here.
		clear(k.prev)
		return rec, fmt.Errorf("secondorder: K-FAC step %d: %w; θ is left unchanged", k.step, nonFiniteAt(h0, k.grad))
	}

	// Factor statistics on the first rows of the batch, as running averages.
	if k.updates == 0 || (k.step-1)%set.StatsInterval == 0 {
		st := k.tapeFor(set.StatsFraction)
		eps := math.Min(1-1/float64(k.updates+1), set.Decay)
		if err := k.curv.Update(st, rowsOf(b.Y, st.BatchSize()), eps); err != nil {
			return rec, fmt.Errorf("secondorder: K-FAC step %d: %w", k.step, err)
		}
		k.updates++
		rec.Updated = true
	}

	// Refactorise every T₂ steps, and at once when λ has moved far from
	// the damping the factors were inverted with.
	if !k.factored || (k.step-1)%set.InverseInterval == 0 || gamma > 4*k.gamma || gamma < k.gamma/4 {
		k.factored = false
		if err := k.curv.Factorize(gamma); err != nil {
			return rec, fmt.Errorf("secondorder: K-FAC step %d: %w", k.step, err)
		}
		k.factored, k.gamma = true, gamma
		rec.Refactored = true
		rec.Spent.Factorizations += 2 * k.curv.NumBlocks()
	}
	if err := k.curv.SolveDampedTo(k.delta, k.grad, k.gamma); err != nil {
		return rec, fmt.Errorf("secondorder: K-FAC step %d: %w", k.step, err)
	}

	// δ = αΔ + μδ_prev, Δ = −F̃⁻¹g, from the damped quadratic model with
	// exact Fisher products on the batch.
	prev, delta, grad := k.prev, k.delta, k.grad
	floats.Scale(-1, delta)
	dd, dp, pp := floats.Dot(delta, delta), floats.Dot(delta, prev), floats.Dot(prev, prev)
	gD, gP := floats.Dot(grad, delta), floats.Dot(grad, prev)
	rec.GradNorm = math.Sqrt(floats.Dot(grad, grad))
	hasPrev := k.step > 1 && pp > 0
	mt := k.tapeFor(set.ModelFraction)
	mDD, mDP, mPP := k.fisherQuad(mt, hasPrev)
	mDD += gamma * dd
	mDP += gamma * dp
	mPP += gamma * pp
	update := !set.FixedDamping && k.step%set.DampingInterval == 0
	var rgD, rgP float64 // the model rows' gradient along Δ and δ_prev
	if update {
		rgD, rgP = k.rowGrad(mt, hasPrev, eta, theta)
	}
	rec.Spent.Products += 1
	if hasPrev {
		rec.Spent.Products++
	}
	var alpha, mu float64
	switch {
	case hasPrev:
		det := mDD*mPP - mDP*mDP
		if det > 1e-12*mDD*mPP && det > 0 {
			alpha = (-gD*mPP + gP*mDP) / det
			mu = (-gP*mDD + gD*mDP) / det
		} else {
			alpha = -gD / mDD
		}
	default:
		alpha = -gD / mDD
	}
	predicted := 0.5*(alpha*alpha*mDD+2*alpha*mu*mDP+mu*mu*mPP) + alpha*gD + mu*gP
	if c := set.NormConstraint; c > 0 {
		fnorm := alpha*alpha*(mDD-gamma*dd) + 2*alpha*mu*(mDP-gamma*dp) + mu*mu*(mPP-gamma*pp)
		if fnorm > c {
			s := math.Sqrt(c / fnorm)
			alpha, mu = s*alpha, s*mu
			predicted = 0.5*(alpha*alpha*mDD+2*alpha*mu*mDP+mu*mu*mPP) + alpha*gD + mu*gP
			rec.Clipped = true
		}
	}
	// The losses are non-negative, so a model that predicts a decrease
	// larger than ModelTrust·h(θ) is outside the region where it can be
	// right: shrink the step along its ray until it predicts no more. The
	// model along sδ is M(s) = ½s²q + s·l with q = δᵀF̂δ and l = gᵀδ.
	if limit := set.ModelTrust * h0; limit > 0 && -predicted > limit {
		q := alpha*alpha*mDD + 2*alpha*mu*mDP + mu*mu*mPP
		l := alpha*gD + mu*gP
		// Smallest s > 0 with −M(s) = limit: ½q s² + l s + limit = 0.
		if disc := l*l - 2*q*limit; q > 0 && disc >= 0 {
			sc := (-l - math.Sqrt(disc)) / q
			alpha, mu = sc*alpha, sc*mu
			predicted = 0.5*(alpha*alpha*mDD+2*alpha*mu*mDP+mu*mu*mPP) + alpha*gD + mu*gP
			rec.Clipped = true
		}
	}
	if !finite(alpha) || !finite(mu) || !finite(predicted) {
		return rec, fmt.Errorf("secondorder: K-FAC step %d: step coefficients α = %v, μ = %v with model change %v are not finite", k.step, alpha, mu, predicted)
	}
	// δ_prev ← αΔ + μδ_prev and θ ← θ + δ in one pass, keeping the old θ.
	var norm2 float64
	good := k.good[:len(theta)]
	prev, delta = prev[:len(theta)], delta[:len(theta)]
	for i, x := range theta {
		good[i] = x
		d := mu*prev[i] + alpha*delta[i]
		prev[i] = d
		theta[i] = x + d
		norm2 += d * d
	}
	rec.Alpha, rec.Mu, rec.Predicted = alpha, mu, predicted
	rec.StepNorm = math.Sqrt(norm2)
	rec.Accepted = true
	if !vec.AllFinite(theta) {
		copy(theta, k.good)
		clear(k.prev)
		return rec, fmt.Errorf("secondorder: K-FAC step %d: the step (α = %v, μ = %v) overflows θ; step undone", k.step, alpha, mu)
	}

	// Levenberg–Marquardt update of λ every T₃ steps, from ρ on the rows
	// whose curvature the model used, with those rows' own gradient: both
	// sides of the ratio then see the same data, and with a model on part
	// of the batch the loss after the step costs a forward pass on that
	// part only.
	if update {
		rows := mt.BatchSize()
		yR := rowsOf(b.Y, rows)
		hR0, rt, xR := h0, t, b.X
		if rows < t.BatchSize() {
			hR0 = mt.LossValue(yR) + k.decayTerm(k.good)
			if k.rhoTape == nil {
				k.rhoTape = nn.NewTape(m.Net, m.Loss)
			}
			rt, xR = k.rhoTape, rowsOf(b.X, rows)
			rt.SetWeights(prefixOf(b.W, rows))
		}
		rt.Forward(theta, xR)
		h1 := rt.LossValue(yR) + k.decayTerm(theta)
		rec.Spent.Func++
		rec.ModelLoss, rec.NewLoss = hR0, h1
		rec.ModelPredicted = 0.5*(alpha*alpha*mDD+2*alpha*mu*mDP+mu*mu*mPP) + alpha*rgD + mu*rgP
		if !finite(h1) {
			copy(theta, k.good)
			clear(k.prev)
			return rec, fmt.Errorf("secondorder: K-FAC step %d: loss is %v after the step; step undone", k.step, h1)
		}
		rec.Rho = (h1 - hR0) / rec.ModelPredicted
		if h1 > hR0 {
			// The step went uphill on its own batch: undo it and drop the
			// momentum, as a Levenberg–Marquardt method rejects a step
			// with ρ < 0, and raise λ below.
			copy(theta, k.good)
			clear(k.prev)
			rec.Accepted = false
		}
		omega := math.Pow(19.0/20, float64(set.DampingInterval))
		switch {
		case rec.Rho > 0.75:
			k.lambda *= omega
		case rec.Rho < 0.25 || math.IsNaN(rec.Rho):
			k.lambda /= omega
		}
		k.lambda = math.Min(math.Max(k.lambda, set.MinDamping), set.MaxDamping)
	}
	rec.NextLambda = k.lambda
	return rec, nil
}

// decayTerm returns η/2‖θ‖², without a pass over θ when η = 0.
func (k *KFAC) decayTerm(theta []float64) float64 {
	if eta := k.set.WeightDecay; eta != 0 {
		return 0.5 * eta * floats.Dot(theta, theta)
	}
	return 0
}

// fisherQuad returns ΔᵀFΔ, ΔᵀFδ_prev and δ_prevᵀFδ_prev (the last two 0
// without δ_prev), F = Σ w_i J_iᵀ F_z,i J_i / Σ w_i from Jacobian-vector
// products on the tape's batch, with F_z,i the output Fisher (the output
// Hessian at the tape's targets unless the loss is an nn.FisherLoss).
func (k *KFAC) fisherQuad(t *nn.Tape, hasPrev bool) (dd, dp, pp float64) {
	n := t.BatchSize()
	C := k.model.Net.OutSize()
	if k.jv == nil || k.jv.RawMatrix().Rows != n {
		k.jv, k.jp, k.hv = mat.NewDense(n, C, nil), mat.NewDense(n, C, nil), mat.NewDense(n, C, nil)
	}
	z := t.Z()
	fz := func(dst, v *mat.Dense) { k.model.Loss.HessVec(dst, z, t.Targets(), v) }
	if f, ok := k.model.Loss.(nn.FisherLoss); ok {
		fz = func(dst, v *mat.Dense) { f.FisherVec(dst, z, v) }
	}
	t.JVP(k.jv, k.delta)
	fz(k.hv, k.jv)
	dd = rowDot(t, k.jv, k.hv)
	if !hasPrev {
		return dd, 0, 0
	}
	t.JVP(k.jp, k.prev)
	dp = rowDot(t, k.jp, k.hv)
	fz(k.hv, k.jp)
	pp = rowDot(t, k.jp, k.hv)
	return dd, dp, pp
}

// rowDot returns Σ_i w_i a_iᵀb_i / Σ_i w_i over the rows of a and b (N×C),
// w_i the tape's sample weights (1 without).
func rowDot(t *nn.Tape, a, b *mat.Dense) float64 {
	ar, br := a.RawMatrix(), b.RawMatrix()
	w := t.Weights()
	var s float64
	for i := 0; i < ar.Rows; i++ {
		d := floats.Dot(ar.Data[i*ar.Stride:i*ar.Stride+ar.Cols], br.Data[i*br.Stride:i*br.Stride+br.Cols])
		if w != nil {
			d *= w[i]
		}
		s += d
	}
	return s / t.WeightSum()
}

// rowGrad returns g_Rᵀ Δ and g_Rᵀ δ_prev (0 without δ_prev) for the
// gradient g_R of the mean loss plus η/2‖θ‖² over the tape's rows R, from
// the Jacobian-vector products of fisherQuad and the backward pass's
// per-sample output gradients u_i: g_Rᵀv = Σ_i w_i u_iᵀ(J_i v) / Σ_i w_i + ηθᵀv.
func (k *KFAC) rowGrad(t *nn.Tape, hasPrev bool, eta float64, theta []float64) (gD, gP float64) {
	u := t.OutputGrad(len(k.model.Net.Layers) - 1)
	dot := func(jv *mat.Dense) float64 { return rowDot(t, u, jv) }
	gD = dot(k.jv)
	if hasPrev {
		gP = dot(k.jp)
	}
	if eta != 0 {
		gD += eta * floats.Dot(theta, k.delta)
		gP += eta * floats.Dot(theta, k.prev)
	}
	return gD, gP
}

// tapeFor returns the step's tape restricted to its first round(frac·N)
// rows: a view, so the statistics and the quadratic model on part of the
// batch cost no second forward pass.
func (k *KFAC) tapeFor(frac float64) *nn.Tape {
	n := k.tape.BatchSize()
	rows := fractionRows(frac, n)
	if rows == n {
		return k.tape
	}
	if k.subRows != rows || k.subStep != k.step {
		k.sub = k.tape.PrefixTo(k.sub, rows)
		k.subRows, k.subStep = rows, k.step
	}
	return k.sub
}

// fractionRows returns the rows of a batch of n that a fraction of it
// takes: round(frac·n), at least 1.
func fractionRows(frac float64, n int) int { return max(1, int(math.Round(frac*float64(n)))) }

// prefixOf returns the first n sample weights (nil for uniform weights).
func prefixOf(w []float64, n int) []float64 {
	if w == nil {
		return nil
	}
	return w[:n:n]
}

// prefixWeight returns an error when the first rows of the batch, which
// the setting named what chooses, weigh nothing in all: their means are
// undefined.
func prefixWeight(b curvature.Batch, rows int, what string) error {
	if b.W == nil {
		return nil
	}
	for _, w := range b.W[:rows] {
		if w > 0 {
			return nil
		}
	}
	return fmt.Errorf("the first %d rows of the batch, which %s takes, all have sample weight 0", rows, what)
}

// rowsOf returns the first n rows of m as a view.
func rowsOf(m *mat.Dense, n int) *mat.Dense {
	_, c := m.Dims()
	return m.Slice(0, n, 0, c).(*mat.Dense)
}
