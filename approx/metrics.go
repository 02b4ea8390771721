package approx

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/spectral"
	"github.com/curvkit/curvkit/internal/symeig"
)

// MetricSettings configure the spectral metrics (RelSpectralError,
// TopEigenvalues, SolveDamping, Compare): dense eigensolvers up to DenseLimit,
// spectral.Lanczos above it, whose Ritz values approach the extreme eigenvalues
// from inside and are used as they are when a run stops unconverged after
// LanczosSteps steps. A nil *MetricSettings means the defaults.
type MetricSettings struct {
	DenseLimit int // the largest order solved densely; 0: 1024, negative: none
	// LanczosSteps caps each Lanczos run (and its memory, that many
	// n-vectors) at no fewer than 2k+40 for k eigenvalues; 0 means 100.
	LanczosSteps int
	Seed         uint64 // of the Lanczos start vectors
	// Progress hears of Compare's measurements as they end: the two
	// errors, the solve and each top-k set (done of 5, or of 3 for k = 0).
	Progress curvature.Progress
}

// metricSettings returns s with its defaults filled in, or an error for a
// bad setting.
func metricSettings(s *MetricSettings) (MetricSettings, error) {
	var set MetricSettings
	if s != nil {
		set = *s
	}
	set.DenseLimit = cmp.Or(set.DenseLimit, 1024)
	switch {
	case set.LanczosSteps < 0:
		return set, fmt.Errorf("approx: MetricSettings.LanczosSteps = %d: must be ≥ 0", set.LanczosSteps)
	case set.LanczosSteps == 0:
		set.LanczosSteps = 100
	}
	return set, nil
}

// dense reports whether the metrics of an operator of order n are exact.
func (s *MetricSettings) dense(n int) bool { return n <= s.DenseLimit }

// Comparison holds the error metrics of an approximation M̃ of an exact
// matrix M.
type Comparison struct {
	N      int     // order of the matrices
	Lambda float64 // damping of the solves
	Floats int     // the approximation's Floats, −1 when it does not say

	RelFrobenius  float64 // ‖M̃−M‖_F/‖M‖_F
	RelSpectral   float64 // ‖M̃−M‖₂/‖M‖₂
	SolveRelError float64 // ‖x̃−x‖/‖x‖, x = (M+λI)⁻¹g, x̃ = (M̃+λI)⁻¹g; NaN if a solve failed
	SolveCosine   float64 // cos∠(x̃, x); NaN if a solve failed
	SolveErr      error   // why a solve failed

	ExactTop, ApproxTop []float64 // the k largest eigenvalues of M and M̃, descending
	DenseSpectral       bool      // dense eigensolvers, not Lanczos
}

// Compare measures a against exact: the Frobenius and spectral relative errors,
// the damped solve of g against the exact one, and the top k eigenvalues of
// both (see MetricSettings; nil means the defaults). It returns an error for
// mismatched sizes, a non-finite g, a bad λ, k or setting, or a zero exact
// matrix.
func Compare(exact curvature.Operator, a Approximation, g []float64, lambda float64, k int, s *MetricSettings) (*Comparison, error) {
	set, err := metricSettings(s)
	if err != nil {
		return nil, err
	}
	n := exact.Dim()
	if a.Dim() != n || len(g) != n {
		return nil, fmt.Errorf("approx: compare: exact order %d, approximation %d, vector %d", n, a.Dim(), len(g))
	}
	if k < 0 || k > n {
		return nil, fmt.Errorf("approx: compare: k = %d must be in 0..%d", k, n)
	}
	if err := checkLambda(lambda); err != nil {
		return nil, err
	}
	if err := checkFiniteVec("g", g); err != nil {
		return nil, err
	}
	steps := 3
	if k > 0 {
		steps = 5
	}
	done := 0
	tick := func() {
		done++
		set.Progress.Report(done, steps)
	}
	c := &Comparison{N: n, Lambda: lambda, Floats: floatsOf(a)}
	if c.RelFrobenius, err = RelFrobeniusError(exact, a); err != nil {
		return nil, err
	}
	tick()
	c.DenseSpectral = set.dense(n)
	if c.RelSpectral, err = set.relSpectralError(exact, a); err != nil {
		return nil, err
	}
	tick()
	c.SolveRelError, c.SolveCosine, c.SolveErr = SolveError(exact, a, g, lambda)
	tick()
	if k > 0 {
		if c.ExactTop, err = set.topEigenvalues(exact, k); err != nil {
			return nil, err
		}
		tick()
		if c.ApproxTop, err = set.topEigenvalues(a, k); err != nil {
			return nil, err
		}
		tick()
	}
	return c, nil
}

// frobBlock is the number of unit vectors multiplied at once.
const frobBlock = 32

// RelFrobeniusError returns ‖M̃−M‖_F/‖M‖_F. When M is held dense (a
// mat.Symmetric, a SymMatrix) and M̃ has a Dense form, the difference is
// taken entry by entry, O(n²); otherwise from the products of both
// operators with blocks of unit vectors, n products each and O(n·32)
// memory. It returns an error when M is zero or a value is not finite.
func RelFrobeniusError(exact, approx curvature.Operator) (float64, error) {
	n := exact.Dim()
	if approx.Dim() != n {
		panic(fmt.Sprintf("approx: comparing operators of dimensions %d and %d", n, approx.Dim()))
	}
	if m, ok := denseOf(exact); ok {
		if d, ok := approx.(interface{ Dense() *mat.SymDense }); ok {
			return relFrobeniusDense(m, d.Dense())
		}
	}
	e := mat.NewDense(n, min(frobBlock, n), nil)
	me := mat.NewDense(n, min(frobBlock, n), nil)
	ae := mat.NewDense(n, min(frobBlock, n), nil)
	var num, den float64
	for j0 := 0; j0 < n; j0 += frobBlock {
		j1 := min(j0+frobBlock, n)
		w := j1 - j0
		ev := e.Slice(0, n, 0, w).(*mat.Dense)
		ev.Zero()
		for j := j0; j < j1; j++ {
			ev.Set(j, j-j0, 1)
		}
		mv := me.Slice(0, n, 0, w).(*mat.Dense)
		av := ae.Slice(0, n, 0, w).(*mat.Dense)
		curvature.MulMatTo(mv, exact, ev)
		curvature.MulMatTo(av, approx, ev)
		for i := 0; i < n; i++ {
			mr, ar := mv.RawRowView(i), av.RawRowView(i)
			for j := range mr {
				d := ar[j] - mr[j]
				num += d * d
				den += mr[j] * mr[j]
			}
		}
	}
	if math.IsNaN(num) || math.IsInf(num, 0) || math.IsNaN(den) || math.IsInf(den, 0) {
		return math.NaN(), fmt.Errorf("approx: Frobenius error: %w: ‖M̃ − M‖² = %v, ‖M‖² = %v", curvature.ErrNonFinite, num, den)
	}
	if den == 0 {
		return math.NaN(), fmt.Errorf("approx: relative error against a zero matrix")
	}
	return math.Sqrt(num / den), nil
}

// denseSpectrum returns every eigenvalue of op, ascending, from its dense
// form.
func denseSpectrum(op curvature.Operator) ([]float64, error) {
	m, err := curvature.Materialize(op, 0)
	if err != nil {
		return nil, err
	}
	if err := checkFiniteSym("materialized operator", m); err != nil {
		return nil, err
	}
	var es symeig.EigenSym
	if !es.Factorize(m, false) {
		return nil, fmt.Errorf("approx: dense eigendecomposition failed")
	}
	return es.Values(nil), nil
}

// lanczos returns the k eigenvalues of op at one end, the wanted end
// first, by spectral.Lanczos.
func (s *MetricSettings) lanczos(op curvature.Operator, k int, which spectral.Which) ([]float64, error) {
	l := spectral.Lanczos{K: k, Which: which, MaxSteps: max(s.LanczosSteps, 2*k+40), Seed: s.Seed}
	res, err := l.Eigen(op)
	if err != nil && !errors.Is(err, spectral.ErrNotConverged) {
		return nil, fmt.Errorf("approx: %w", err)
	}
	return res.Values, nil
}

// denseOf returns op's dense matrix when op holds one.
func denseOf(op curvature.Operator) (mat.Symmetric, bool) {
	switch m := op.(type) {
	case *SymMatrix:
		return m.m, true
	case mat.Symmetric:
		return m, true
	}
	return nil, false
}

// relFrobeniusDense returns ‖a − m‖_F/‖m‖_F from the upper triangles.
func relFrobeniusDense(m, a mat.Symmetric) (float64, error) {
	n := m.SymmetricDim()
	var num, den float64
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			w := 2.0 // each off-diagonal entry counts twice
			if i == j {
				w = 1
			}
			x := m.At(i, j)
			d := a.At(i, j) - x
			num += w * d * d
			den += w * x * x
		}
	}
	if math.IsNaN(num) || math.IsInf(num, 0) || math.IsNaN(den) || math.IsInf(den, 0) {
		return math.NaN(), fmt.Errorf("approx: Frobenius error: %w", curvature.ErrNonFinite)
	}
	if den == 0 {
		return math.NaN(), fmt.Errorf("approx: relative error against a zero matrix")
	}
	return math.Sqrt(num / den), nil
}

// spectralNorm returns ‖op‖₂ = max |eigenvalue|: densely, or as the square
// root of the largest eigenvalue of op², whose Lanczos run converges at
// the top where a run on op would have to converge at both ends.
func (s *MetricSettings) spectralNorm(op curvature.Operator) (float64, error) {
	if s.dense(op.Dim()) {
		vals, err := denseSpectrum(op)
		if err != nil {
			return math.NaN(), err
		}
		return math.Max(math.Abs(vals[0]), math.Abs(vals[len(vals)-1])), nil
	}
	top, err := s.lanczos(&squareOp{op: op, w: make([]float64, op.Dim())}, 1, spectral.Largest)
	if err != nil {
		return math.NaN(), err
	}
	return math.Sqrt(math.Max(top[0], 0)), nil
}

// RelSpectralError returns ‖M̃−M‖₂/‖M‖₂, the largest absolute eigenvalue
// of the difference over that of M (see MetricSettings; nil means the
// defaults).
func RelSpectralError(exact, approx curvature.Operator, s *MetricSettings) (float64, error) {
	set, err := metricSettings(s)
	if err != nil {
		return math.NaN(), err
	}
	return set.relSpectralError(exact, approx)
}

func (s *MetricSettings) relSpectralError(exact, approx curvature.Operator) (float64, error) {
	num, err := s.spectralNorm(newDiffOp(approx, exact))
	if err != nil {
		return math.NaN(), err
	}
	den, err := s.spectralNorm(exact)
	if err != nil {
		return math.NaN(), err
	}
	if den == 0 {
		return math.NaN(), fmt.Errorf("approx: relative error against a zero matrix")
	}
	return num / den, nil
}

// TopEigenvalues returns the k largest eigenvalues of op in descending
// order (see MetricSettings; nil means the defaults).
func TopEigenvalues(op curvature.Operator, k int, s *MetricSettings) ([]float64, error) {
	set, err := metricSettings(s)
	if err != nil {
		return nil, err
	}
	return set.topEigenvalues(op, k)
}

func (s *MetricSettings) topEigenvalues(op curvature.Operator, k int) ([]float64, error) {
	n := op.Dim()
	if k < 0 || k > n {
		return nil, fmt.Errorf("approx: top %d eigenvalues of an operator of order %d", k, n)
	}
	if k == 0 {
		return []float64{}, nil
	}
	if !s.dense(n) {
		return s.lanczos(op, k, spectral.Largest)
	}
	vals, err := denseSpectrum(op)
	if err != nil {
		return nil, err
	}
	top := slices.Clone(vals[n-k:])
	slices.Reverse(top)
	return top, nil
}

// SolveDamping returns a λ for comparing damped solves against M:
// 10⁻³‖M‖₂, plus −λ_min(M) when M has negative eigenvalues (a Hessian
// away from a minimum), so that M + λI is positive definite and its
// condition number stays near 1000. It is 0 for a zero matrix. The
// extreme eigenvalues are computed as MetricSettings says (nil means the
// defaults).
func SolveDamping(M curvature.Operator, s *MetricSettings) (float64, error) {
	set, err := metricSettings(s)
	if err != nil {
		return math.NaN(), err
	}
	var lo, hi float64
	if set.dense(M.Dim()) {
		vals, err := denseSpectrum(M)
		if err != nil {
			return math.NaN(), err
		}
		lo, hi = vals[0], vals[len(vals)-1]
	} else {
		top, err := set.lanczos(M, 1, spectral.Largest)
		if err != nil {
			return math.NaN(), err
		}
		bottom, err := set.lanczos(M, 1, spectral.Smallest)
		if err != nil {
			return math.NaN(), err
		}
		lo, hi = bottom[0], top[0]
	}
	return 1e-3*math.Max(math.Abs(hi), math.Abs(lo)) + math.Max(0, -lo), nil
}

// SolveError returns the relative error ‖x̃−x‖/‖x‖ and the cosine between
// x̃ = (M̃+λI)⁻¹g and x = (M+λI)⁻¹g. The exact solve uses exact's
// SolveDampedTo when it has one, else a dense Cholesky factorisation. A
// failed solve (not positive definite) gives NaNs and its error.
func SolveError(exact curvature.Operator, a Approximation, g []float64, lambda float64) (rel, cos float64, err error) {
	n := exact.Dim()
	x := make([]float64, n)
	xt := make([]float64, n)
	if d, ok := exact.(curvature.DampedSolver); ok {
		err = d.SolveDampedTo(x, g, lambda)
	} else {
		var sm *SymMatrix
		if s, ok := exact.(mat.Symmetric); ok {
			sm, err = NewSymMatrix(s, 0)
		} else {
			var m *mat.SymDense
			if m, err = curvature.Materialize(exact, 0); err == nil {
				sm, err = NewSymMatrix(m, 0)
			}
		}
		if err == nil {
			err = sm.SolveDampedTo(x, g, lambda)
		}
	}
	if err != nil {
		return math.NaN(), math.NaN(), fmt.Errorf("approx: exact damped solve: %w", err)
	}
	if err = a.SolveDampedTo(xt, g, lambda); err != nil {
		return math.NaN(), math.NaN(), fmt.Errorf("approx: approximate damped solve: %w", err)
	}
	nx, nxt := floats.Norm(x, 2), floats.Norm(xt, 2)
	if nx == 0 {
		return math.NaN(), math.NaN(), fmt.Errorf("approx: the exact solution is zero")
	}
	rel = floats.Distance(xt, x, 2) / nx
	if nxt == 0 {
		return rel, math.NaN(), fmt.Errorf("approx: the approximate solution is zero")
	}
	cos = floats.Dot(x, xt) / (nx * nxt)
	return rel, cos, nil
}

// Metric names of the records.
const (
	MetricRelFrobenius = "rel_frobenius"
	MetricRelSpectral  = "rel_spectral"
	MetricSolveRelErr  = "solve_rel_error"
	MetricSolveCosine  = "solve_cosine"
	MetricFloats       = "floats"
	MetricLambda       = "lambda"     // the exact matrix's damping of the solves
	MetricEigenvalue   = "eigenvalue" // Index 1, 2, …: the largest first
)

// Records returns the approximation's measurements as rows of the tidy
// table of one step, matrix and approximation: its Floats, the four errors
// and its top eigenvalues. ExactRecords gives the matrix's own rows.
func (c *Comparison) Records(step int, matrix, approximation string) []data.Record {
	r := func(metric string, v float64) data.Record {
		return data.Record{Step: step, Matrix: matrix, Approximation: approximation, Metric: metric, Value: v}
	}
	recs := []data.Record{
		r(MetricFloats, float64(c.Floats)),
		r(MetricRelFrobenius, c.RelFrobenius),
		r(MetricRelSpectral, c.RelSpectral),
		r(MetricSolveRelErr, c.SolveRelError),
		r(MetricSolveCosine, c.SolveCosine),
	}
	return appendEigenvalues(recs, r(MetricEigenvalue, 0), c.ApproxTop)
}

// ExactRecords returns the exact matrix's rows of the tidy table, with the
// approximation "exact": the damping λ of the solves and its top
// eigenvalues. They are the same for every approximation compared with the
// matrix, so a table holds them once per step and matrix.
func (c *Comparison) ExactRecords(step int, matrix string) []data.Record {
	r := data.Record{Step: step, Matrix: matrix, Approximation: "exact", Metric: MetricLambda, Value: c.Lambda}
	e := r
	e.Metric = MetricEigenvalue
	return appendEigenvalues([]data.Record{r}, e, c.ExactTop)
}

// appendEigenvalues appends a record like r for each of vals, indexed
// from 1.
func appendEigenvalues(recs []data.Record, r data.Record, vals []float64) []data.Record {
	for i, v := range vals {
		r.Index, r.Value = i+1, v
		recs = append(recs, r)
	}
	return recs
}

// diffOp is the operator a − b.
type diffOp struct {
	a, b curvature.Operator
	w    []float64
}

func newDiffOp(a, b curvature.Operator) *diffOp {
	if a.Dim() != b.Dim() {
		panic(fmt.Sprintf("approx: comparing operators of dimensions %d and %d", a.Dim(), b.Dim()))
	}
	return &diffOp{a: a, b: b, w: make([]float64, a.Dim())}
}

func (d *diffOp) Dim() int { return d.a.Dim() }

func (d *diffOp) MulVecTo(dst, v []float64) {
	d.a.MulVecTo(dst, v)
	d.b.MulVecTo(d.w, v)
	floats.Sub(dst, d.w)
}

// squareOp is the operator op².
type squareOp struct {
	op curvature.Operator
	w  []float64
}

func (q *squareOp) Dim() int { return q.op.Dim() }

func (q *squareOp) MulVecTo(dst, v []float64) {
	q.op.MulVecTo(q.w, v)
	q.op.MulVecTo(dst, q.w)
}
