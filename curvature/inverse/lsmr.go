package inverse

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/pcg"
)

// Rectangular is a linear map J: Rⁿ → Rᵐ known through its products with
// J and Jᵀ: a network's stacked Jacobian, the square root of a GGN, a
// design matrix.
type Rectangular interface {
	// Dims returns m and n, the rows and columns of J.
	Dims() (m, n int)
	// MulVecTo stores J·v in dst (length m; v has length n).
	MulVecTo(dst, v []float64)
	// MulTransVecTo stores Jᵀ·u in dst (length n; u has length m).
	MulTransVecTo(dst, u []float64)
}

// Matrix is a Rectangular backed by a mat.Matrix, which is not copied.
type Matrix struct{ mat.Matrix }

var _ Rectangular = Matrix{}

// MulVecTo stores J·v in dst.
func (a Matrix) MulVecTo(dst, v []float64) {
	r, c := a.Dims()
	if len(dst) != r || len(v) != c {
		panic(fmt.Sprintf("inverse: %d×%d matrix times a vector of length %d into %d", r, c, len(v), len(dst)))
	}
	mat.NewVecDense(r, dst).MulVec(a.Matrix, mat.NewVecDense(c, v))
}

// MulTransVecTo stores Jᵀ·u in dst.
func (a Matrix) MulTransVecTo(dst, u []float64) {
	r, c := a.Dims()
	if len(dst) != c || len(u) != r {
		panic(fmt.Sprintf("inverse: transpose of a %d×%d matrix times a vector of length %d into %d", r, c, len(u), len(dst)))
	}
	mat.NewVecDense(c, dst).MulVec(a.Matrix.T(), mat.NewVecDense(r, u))
}

// LSMR solves the damped least-squares problem
//
//	min_x ‖Jx − b‖² + λ‖x‖²,    x = (JᵀJ + λI)⁻¹Jᵀb,
//
// from products with J and Jᵀ alone, by LSMR (Fong & Saunders 2011): the
// Golub–Kahan bidiagonalisation of J with MINRES applied, in effect, to
// the normal equations, so that their residual ‖Jᵀ(b − Jx) − λx‖ falls
// monotonically. It never forms JᵀJ, whose condition number is the square
// of J's, and each iteration costs one product with J and one with Jᵀ.
// The iteration stops when that residual is at most Tol·‖Jᵀb‖, as
// estimated by the recurrence (|ζ̄| in the paper's notation).
//
// As a Solver, LSMR is the symmetric operator v ↦ (JᵀJ + λI)⁻¹v on Rⁿ —
// the damped inverse of a Gauss–Newton matrix G = JᵀJ given its square
// root — for λ > 0: it solves min ‖[J; √λ I]x − [0; v/√λ]‖², whose normal
// equations are (JᵀJ + λI)x = v.
//
// An LSMR keeps its work vectors between solves and is not safe for
// concurrent use.
type LSMR struct {
	// J is the operator.
	J Rectangular
	// Damping is λ ≥ 0 (the paper's damp is √λ); zero means none. The
	// operator products (SolveTo, MulVecTo) need λ > 0.
	Damping float64
	// Tol is the relative residual of the normal equations at which the
	// iteration stops. If it is 0, it defaults to 1e-10; it must be in
	// (0, 1).
	Tol float64
	// MaxIterations caps the iterations. If it is 0, it defaults to
	// max(50, 4·min(m, n)); reaching it above Tol is an error wrapping
	// ErrNotConverged.
	MaxIterations int

	u, v, h, hbar, w []float64
	rhs              []float64
	stats            Stats
}

// Dim returns n, the columns of J: the dimension of the operator
// (JᵀJ + λI)⁻¹.
func (l *LSMR) Dim() int {
	_, n := l.J.Dims()
	return n
}

// Stats returns what the last solve spent and reached.
func (l *LSMR) Stats() Stats { return l.stats }

// MulVecTo stores (JᵀJ + λI)⁻¹v in dst. It panics with SolveTo's error
// when the solve fails; call SolveTo to receive it instead.
func (l *LSMR) MulVecTo(dst, v []float64) { mustSolve(l, dst, v) }

// SolveTo stores (JᵀJ + λI)⁻¹v in dst; λ must be positive.
func (l *LSMR) SolveTo(dst, v []float64) error {
	m, n := l.J.Dims()
	checkVecs("LSMR", dst, v, n)
	if err := checkDamping("LSMR.Damping", l.Damping, true); err != nil {
		return err
	}
	if err := checkFinite("LSMR right-hand side", v); err != nil {
		return err
	}
	sq := math.Sqrt(l.Damping)
	l.rhs = pcg.Resize(l.rhs, m+n)
	clear(l.rhs[:m])
	floats.ScaleTo(l.rhs[m:], 1/sq, v)
	return l.solve(dst, stacked{j: l.J, sq: sq}, l.rhs, 0)
}

// LeastSquaresTo stores in x (length n) the minimiser of
// ‖Jx − b‖² + λ‖x‖² for b of length m. When the iteration stops at
// MaxIterations, x holds the last iterate and the error wraps
// ErrNotConverged.
func (l *LSMR) LeastSquaresTo(x, b []float64) error {
	m, n := l.J.Dims()
	if len(x) != n || len(b) != m {
		panic(fmt.Sprintf("inverse: LSMR: x of length %d and b of length %d for a %d×%d operator", len(x), len(b), m, n))
	}
	if err := checkDamping("LSMR.Damping", l.Damping, false); err != nil {
		return err
	}
	if err := checkFinite("LSMR right-hand side", b); err != nil {
		return err
	}
	return l.solve(x, l.J, b, math.Sqrt(l.Damping))
}

// stacked is [J; sq·I], (m+n)×n.
type stacked struct {
	j  Rectangular
	sq float64
}

func (s stacked) Dims() (int, int) {
	m, n := s.j.Dims()
	return m + n, n
}

func (s stacked) MulVecTo(dst, v []float64) {
	m, _ := s.j.Dims()
	s.j.MulVecTo(dst[:m], v)
	floats.ScaleTo(dst[m:], s.sq, v)
}

func (s stacked) MulTransVecTo(dst, u []float64) {
	m, _ := s.j.Dims()
	s.j.MulTransVecTo(dst, u[:m])
	floats.AddScaled(dst, s.sq, u[m:])
}

// solve runs LSMR on min ‖Ax − b‖² + damp²‖x‖² from x = 0 (Fong & Saunders
// 2011, Algorithm LSMR, with the extra plane rotation by which they fold
// the damping term into the bidiagonal of A).
func (l *LSMR) solve(x []float64, a Rectangular, b []float64, damp float64) error {
	l.stats = Stats{}
	tol, err := tolerance("LSMR.Tol", l.Tol, 1e-10)
	if err != nil {
		return err
	}
	m, n := a.Dims()
	jm, jn := l.J.Dims()
	maxIter, err := limit("LSMR.MaxIterations", l.MaxIterations, max(50, 4*min(jm, jn)))
	if err != nil {
		return err
	}
	l.u = pcg.Resize(l.u, m)
	l.v = pcg.Resize(l.v, n)
	l.h = pcg.Resize(l.h, n)
	l.hbar = pcg.Resize(l.hbar, n)
	l.w = pcg.Resize(l.w, max(m, n))
	u, v, h, hbar := l.u, l.v, l.h, l.hbar
	clear(x)
	clear(hbar)

	// β₁u₁ = b, α₁v₁ = Aᵀu₁.
	copy(u, b)
	beta := floats.Norm(u, 2)
	if beta == 0 {
		return nil
	}
	floats.Scale(1/beta, u)
	a.MulTransVecTo(v, u)
	l.stats.Products++
	alpha := floats.Norm(v, 2)
	if !finite(alpha) {
		return fmt.Errorf("inverse: LSMR: product with Jᵀ: %w", curvature.ErrNonFinite)
	}
	if alpha == 0 {
		return nil // Aᵀb = 0: x = 0 solves the normal equations
	}
	floats.Scale(1/alpha, v)
	copy(h, v)

	var (
		alphaBar = alpha
		zetaBar  = alpha * beta // ‖Āᵀr̄‖ of the current iterate
		normATb  = zetaBar
		rho      = 1.0
		rhoBar   = 1.0
		cBar     = 1.0
		sBar     = 0.0
	)
	for math.Abs(zetaBar) > tol*normATb {
		if l.stats.Iterations == maxIter {
			l.stats.Residual = math.Abs(zetaBar) / normATb
			return fmt.Errorf("%w: LSMR: relative normal-equation residual %.3g after %d iterations, above Tol = %g", ErrNotConverged, l.stats.Residual, maxIter, tol)
		}
		l.stats.Iterations++
		// Golub–Kahan: β u ← Av − αu, α v ← Aᵀu − βv.
		w := l.w[:m]
		a.MulVecTo(w, v)
		floats.AddScaledTo(u, w, -alpha, u)
		beta = floats.Norm(u, 2)
		if beta > 0 {
			floats.Scale(1/beta, u)
		}
		w = l.w[:n]
		a.MulTransVecTo(w, u)
		l.stats.Products += 2
		floats.AddScaledTo(v, w, -beta, v)
		alpha = floats.Norm(v, 2)
		if !finite(alpha) || !finite(beta) {
			return fmt.Errorf("inverse: LSMR: operator product: %w", curvature.ErrNonFinite)
		}
		if alpha > 0 {
			floats.Scale(1/alpha, v)
		}

		// The rotation that takes the damping out of the lower
		// bidiagonal, then the one that makes it upper bidiagonal.
		alphaHat := math.Hypot(alphaBar, damp)
		rhoOld := rho
		rho = math.Hypot(alphaHat, beta)
		if rho == 0 {
			break // α̂ = β = 0: the iterate solves the problem
		}
		c, s := alphaHat/rho, beta/rho
		thetaNew := s * alpha
		alphaBar = c * alpha

		// The second rotation, on R̄.
		rhoBarOld := rhoBar
		thetaBar := sBar * rho
		rhoTemp := cBar * rho
		rhoBar = math.Hypot(rhoTemp, thetaNew)
		cBar, sBar = rhoTemp/rhoBar, thetaNew/rhoBar
		zeta := cBar * zetaBar
		zetaBar = -sBar * zetaBar

		// h̄ ← h − (θ̄ρ/(ρ₋ρ̄₋))h̄, x ← x + (ζ/(ρρ̄))h̄, h ← v − (θ/ρ)h.
		floats.AddScaledTo(hbar, h, -thetaBar*rho/(rhoOld*rhoBarOld), hbar)
		floats.AddScaled(x, zeta/(rho*rhoBar), hbar)
		floats.AddScaledTo(h, v, -thetaNew/rho, h)
	}
	l.stats.Residual = math.Abs(zetaBar) / normATb
	return checkFinite("LSMR solution", x)
}
