package spectral

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// Lanczos computes K eigenpairs at one end of the spectrum of a symmetric
// operator by the Lanczos process with full reorthogonalisation, from a
// seeded random start. After each batch of steps it computes the Ritz
// pairs of the tridiagonal T and stops when the K wanted ones meet
//
//	‖Mv − θv‖ ≤ Tol·max(|θ|, √ε·‖T‖),
//
// first by the free estimate β_j|e_jᵀs| and then by explicit products
// (K per check, counted in Products). The floor √ε·‖T‖ keeps the test
// meaningful for eigenvalues at or near zero. When the Krylov space
// becomes invariant the process restarts from a random vector orthogonal
// to it, so repeated eigenvalues are found with their multiplicity. There
// is no implicit restart: if MaxSteps steps are not enough, Eigen returns
// the pairs it has with ErrNotConverged.
//
// A value is used by one goroutine at a time; Eigen may be called again.
type Lanczos struct {
	// K is the number of eigenpairs. If K is 0, it defaults to 1.
	K int
	// Which is the end of the spectrum: Largest (the zero value) or
	// Smallest.
	Which Which
	// Tol is the relative residual tolerance. If Tol is 0, it defaults
	// to 1e-8; it must be in (0, 1).
	Tol float64
	// MaxSteps caps the Krylov dimension, and with it the memory. If it
	// is 0, it defaults to min(n, max(2K + 40, 4K)).
	MaxSteps int
	// Rand draws the start vectors. If it is nil, a generator seeded with
	// Seed is used, so the same Seed gives the same result.
	Rand *rand.Rand
	Seed uint64
	// Budget caps the memory, in float64 values (see Floats): 0 means
	// curvature.DefaultBudget, a negative budget no limit.
	Budget int
	// Progress, if not nil, hears of every step: done of MaxSteps.
	Progress curvature.Progress
}

// EigenSolver computes eigenpairs of an operator. Lanczos and Power
// implement it.
type EigenSolver interface {
	// Floats returns the float64 values the solver allocates for an
	// operator of dimension n.
	Floats(n int) int
	// Eigen computes the eigenpairs.
	Eigen(op curvature.Operator) (*Eigenpairs, error)
}

var (
	_ EigenSolver = (*Lanczos)(nil)
	_ EigenSolver = (*Power)(nil)
)

func (l *Lanczos) settings(n int) (k, m int, tol float64, err error) {
	k = l.K
	k = cmp.Or(k, 1)
	if k < 0 || k > n {
		return 0, 0, 0, badSetting("Lanczos.K", l.K, fmt.Sprintf("must be in [1, %d], the dimension", n))
	}
	if l.Which != Largest && l.Which != Smallest {
		return 0, 0, 0, badSetting("Lanczos.Which", l.Which, "must be Largest or Smallest")
	}
	if tol, err = tolerance("Lanczos.Tol", l.Tol, 1e-8); err != nil {
		return 0, 0, 0, err
	}
	m = l.MaxSteps
	switch {
	case m == 0:
		m = min(n, max(2*k+40, 4*k))
	case m < k:
		return 0, 0, 0, badSetting("Lanczos.MaxSteps", m, fmt.Sprintf("must be at least K = %d", k))
	}
	return k, min(m, n), tol, nil
}

// Floats returns the float64 values Eigen allocates for an operator of
// dimension n: the Krylov basis (MaxSteps × n) and two work vectors, the
// eigenvectors of T (MaxSteps²) and the K Ritz vectors returned. Invalid
// settings give 0.
func (l *Lanczos) Floats(n int) int {
	k, m, _, err := l.settings(n)
	if err != nil {
		return 0
	}
	return krylovFloats(n, m) + ritzFloats(m) + n + k*n + 2*k
}

// Eigen computes the K wanted eigenpairs of op, which must be symmetric.
func (l *Lanczos) Eigen(op curvature.Operator) (*Eigenpairs, error) {
	n, err := dim("Lanczos", op)
	if err != nil {
		return nil, err
	}
	k, m, tol, err := l.settings(n)
	if err != nil {
		return nil, err
	}
	if err := curvature.CheckFloats("lanczos", l.Floats(n), l.Budget); err != nil {
		return nil, err
	}
	rnd := source(l.Rand, l.Seed)
	kr := newKrylov(n, m)
	kr.progress, kr.total = l.Progress, m
	defer kr.finish()
	v := make([]float64, n)
	starts := []int{0} // the first step of each Krylov block
	// restart pushes a random vector orthogonal to the basis; false when
	// the basis spans everything a random vector reaches.
	restart := func() bool {
		for try := 0; try < 3; try++ {
			gaussian(v, rnd)
			if kr.push(v) {
				return true
			}
		}
		return false
	}
	if !restart() {
		return nil, fmt.Errorf("spectral: Lanczos could not draw a start vector")
	}

	var (
		next  = k // step count of the next convergence check
		r     = make([]float64, n)
		order = make([]int, k)
	)
	res := &Eigenpairs{Values: make([]float64, k), Vectors: mat.NewDense(n, k, nil), Residuals: make([]float64, k)}
	for {
		broke, full, err := kr.step(op)
		if err != nil {
			return nil, err
		}
		exhausted := full
		if broke {
			if restart() {
				starts = append(starts, kr.steps)
			} else {
				exhausted = true
			}
		}
		s := kr.steps
		if s < next && !exhausted {
			continue
		}
		next = s + max(1, s/10)
		if s < k {
			if exhausted {
				return nil, fmt.Errorf("spectral: Lanczos found only %d of %d Ritz values", s, k)
			}
			continue
		}
		vals, z, ok := kr.ritz()
		if !ok {
			return nil, fmt.Errorf("spectral: eigendecomposition of the Lanczos tridiagonal failed")
		}
		tnorm := math.Max(math.Abs(vals[0]), math.Abs(vals[s-1]))
		conv := converged(tol, tnorm, n)
		for i := range order {
			order[i] = i
			if l.Which == Largest {
				order[i] = s - 1 - i
			}
		}
		// The free residual estimates β_s|z_last,c| of the wanted pairs.
		bLast := kr.beta[s-1]
		for _, c := range order {
			if !conv(bLast*math.Abs(z[(s-1)*s+c]), vals[c]) {
				ok = false
				break
			}
		}
		if ok && !exhausted && len(starts) > 1 {
			ok = l.blockSettled(vals, z, s, starts, bLast, vals[order[k-1]], conv)
		}
		if !ok && !exhausted {
			continue
		}
		// Ritz vectors and their true residuals.
		res.Steps = s
		res.Converged = k
		for i, c := range order {
			kr.ritzVector(r, z, c)
			res.Vectors.SetCol(i, r)
			res.Values[i] = vals[c]
		}
		for i := range order {
			v := mat.Col(r, i, res.Vectors)
			if err := mulVec(kr.w, op, v, &kr.products); err != nil {
				return nil, err
			}
			floats.AddScaled(kr.w, -res.Values[i], v)
			res.Residuals[i] = floats.Norm(kr.w, 2)
			if res.Converged == k && !conv(res.Residuals[i], res.Values[i]) {
				res.Converged = i
			}
		}
		res.Products = kr.products
		if res.Converged == k {
			return res, nil
		}
		if exhausted {
			return res, fmt.Errorf("%w: %d of %d pairs after %d Lanczos steps", ErrNotConverged, res.Converged, k, s)
		}
	}
}

// converged returns the residual test of a Ritz pair: ‖r‖ ≤ tol·max(|θ|,
// √ε‖T‖), or ‖r‖ at the rounding level 16√n·ε‖T‖ of the products.
func converged(tol, tnorm float64, n int) func(r, theta float64) bool {
	floor := math.Sqrt(0x1p-52) * tnorm
	round := 16 * math.Sqrt(float64(n)) * 0x1p-52 * tnorm
	return func(r, theta float64) bool {
		return r <= tol*math.Max(math.Abs(theta), floor) || r <= round
	}
}

// blockSettled decides, after the Krylov space has broken down and been
// restarted, whether the newest block can still change the wanted values.
// One Krylov block holds each eigenvalue once, so a repeated eigenvalue
// shows up again only in a later block: while the newest block's
// wanted-end Ritz value is unconverged, or converged and beyond kth (the
// last wanted value), more copies may follow and the iteration goes on.
// The eigenvectors of the block-diagonal T lie within one block, so the
// newest block's Ritz pairs are those whose vector lives below its start.
func (l *Lanczos) blockSettled(vals, z []float64, s int, starts []int, bLast, kth float64, conv func(r, theta float64) bool) bool {
	b := starts[len(starts)-1]
	if b >= s {
		b = starts[len(starts)-2] // the newest block has taken no step yet
	}
	best := -1
	for c := range vals {
		mass := 0.0
		for j := b; j < s; j++ {
			mass += z[j*s+c] * z[j*s+c]
		}
		if mass < 0.5 {
			continue
		}
		if best < 0 || (l.Which == Largest) == (vals[c] > vals[best]) {
			best = c
		}
	}
	if best < 0 {
		return false
	}
	if !conv(bLast*math.Abs(z[(s-1)*s+best]), vals[best]) {
		return false
	}
	if l.Which == Largest {
		return !(vals[best] > kth) || conv(vals[best]-kth, kth)
	}
	return !(vals[best] < kth) || conv(kth-vals[best], kth)
}
