package spectral

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"

	"github.com/curvkit/curvkit/curvature"
)

// krylov is the symmetric Lanczos process with full reorthogonalisation:
// it builds orthonormal q_0, q_1, … and the tridiagonal T = QᵀMQ with
// diagonal α and off-diagonal β, where
//
//	M q_j = β_{j−1} q_{j−1} + α_j q_j + β_j q_{j+1},
//
// orthogonalising every new vector against all earlier ones, twice
// (classical Gram–Schmidt, "twice is enough"), so that Q stays orthonormal
// to rounding and no spurious copies of converged Ritz values appear.
type krylov struct {
	n, m        int
	q           []float64 // row j holds q_j; m×n
	alpha, beta []float64 // beta[j] couples q_j and q_{j+1}; 0 at a restart
	w           []float64
	d, e, z     []float64 // storage of ritz: eigenvalues, off-diagonal, eigenvectors
	work        []float64
	vecs        int     // vectors stored in q
	steps       int     // α computed: the order of T
	scale       float64 // the largest |α_j|, β_j seen, an estimate of ‖M‖
	products    int

	// progress, if not nil, hears of every step: done steps of total.
	progress    curvature.Progress
	done, total int
}

// krylovFloats is the storage of a krylov of m steps in dimension n.
func krylovFloats(n, m int) int { return m*n + n + 2*m }

func newKrylov(n, m int) *krylov {
	return &krylov{
		n: n, m: m,
		q:     make([]float64, m*n),
		alpha: make([]float64, m),
		beta:  make([]float64, m),
		w:     make([]float64, n),
	}
}

func (k *krylov) row(j int) []float64 { return k.q[j*k.n : (j+1)*k.n] }

// orthogonalise removes from v its components along the stored vectors,
// twice.
func (k *krylov) orthogonalise(v []float64) {
	for pass := 0; pass < 2; pass++ {
		for j := 0; j < k.vecs; j++ {
			qj := k.row(j)
			floats.AddScaled(v, -floats.Dot(qj, v), qj)
		}
	}
}

// push stores v, orthogonalised against the stored vectors and
// normalised, as the next vector. It reports false, storing nothing, when
// q is full or v lies in their span to within a factor 1e-8 of its norm.
func (k *krylov) push(v []float64) bool {
	if k.vecs >= k.m {
		return false
	}
	nv := floats.Norm(v, 2)
	k.orthogonalise(v)
	r := floats.Norm(v, 2)
	if !(r > 1e-8*nv) {
		return false
	}
	floats.ScaleTo(k.row(k.vecs), 1/r, v)
	k.vecs++
	return true
}

// breakdown is the relative size of β, against the scale of M, below
// which the Krylov space is taken as invariant: rounding leaves β at
// about 1e-12‖M‖ or more where it is zero in exact arithmetic, and
// dropping it perturbs T's eigenvalues by at most β.
const breakdown = 1e-10

// step takes one Lanczos step from the last stored vector: α, β and the
// next vector. It reports broke when the process breaks down — β is
// negligible against the scale of M, so the Krylov space is invariant;
// β is then set to 0 — and full when q has no room for the next vector.
func (k *krylov) step(op curvature.Operator) (broke, full bool, err error) {
	j := k.steps
	qj := k.row(j)
	if err := mulVec(k.w, op, qj, &k.products); err != nil {
		return false, false, err
	}
	a := floats.Dot(qj, k.w)
	k.alpha[j] = a
	k.steps++
	k.done++
	k.progress.Report(min(k.done, k.total), k.total)
	k.scale = math.Max(k.scale, math.Abs(a))
	// Full reorthogonalisation subsumes the three-term recurrence.
	k.orthogonalise(k.w)
	b := floats.Norm(k.w, 2)
	if b <= breakdown*k.scale {
		k.beta[j] = 0
		return true, false, nil
	}
	k.beta[j] = b
	k.scale = math.Max(k.scale, b)
	if k.vecs >= k.m {
		return false, true, nil
	}
	floats.ScaleTo(k.row(k.vecs), 1/b, k.w)
	k.vecs++
	return false, false, nil
}

// finish reports the end of the computation the steps served.
func (k *krylov) finish() {
	if k.done < k.total {
		k.done = k.total
		k.progress.Report(k.total, k.total)
	}
}

// ritz computes the eigenvalues and eigenvectors of T, the tridiagonal of
// the steps taken (block diagonal across restarts), by the implicit QL/QR
// method (LAPACK's dsteqr) in the krylov's own storage: the eigenvalues,
// ascending, in the returned slice, and eigenvector c in column c of the
// row-major s×s matrix z. Eigenvectors of a block-diagonal T lie within
// one block. It reports false if the iteration fails.
func (k *krylov) ritz() (vals, z []float64, ok bool) {
	s := k.steps
	if k.d == nil {
		k.d = make([]float64, k.m)
		k.e = make([]float64, k.m)
		k.z = make([]float64, k.m*k.m)
		k.work = make([]float64, 2*k.m)
	}
	copy(k.d, k.alpha[:s])
	copy(k.e, k.beta[:s])
	z = k.z[:s*s]
	ok = gonum.Implementation{}.Dsteqr(lapack.EVTridiag, s, k.d[:s], k.e[:s], z, s, k.work)
	return k.d[:s], z, ok
}

// ritzFloats is the storage of ritz for m steps.
func ritzFloats(m int) int { return m*m + 4*m }

// ritzVector stores in v the unit Ritz vector Σ_j z_jc q_j of column c
// of z (s×s) and returns its norm before normalisation.
func (k *krylov) ritzVector(v, z []float64, c int) float64 {
	s := k.steps
	clear(v)
	for j := 0; j < s; j++ {
		floats.AddScaled(v, z[j*s+c], k.row(j))
	}
	nv := floats.Norm(v, 2)
	floats.Scale(1/nv, v)
	return nv
}
