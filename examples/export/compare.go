package main

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
)

// topK is the number of largest eigenvalues errors.csv holds of each
// matrix and approximation.
const topK = 5

// errorMetrics are the metrics errors.csv holds for each approximation
// besides its eigenvalues, NaN when they cannot be computed.
var errorMetrics = []string{approx.MetricFloats, approx.MetricRelFrobenius, approx.MetricRelSpectral, approx.MetricSolveRelErr, approx.MetricSolveCosine}

// candidate is an approximation of one matrix, or the error that kept it
// from being built.
type candidate struct {
	name string
	a    approx.Approximation
	err  error
}

// networkApprox holds the approximations built from the network rather
// than from one matrix, and the matrices each approximates.
type networkApprox struct {
	kfac, ekfac  approx.Approximation
	kfacTargets  []curvature.Kind // the matrices K-FAC's factor kind approximates
	tonga        approx.Approximation
	tongaUncentr approx.Approximation
}

// candidates returns the approximations compared with matrix kind: the
// diagonal and the per-layer block-diagonal of that matrix itself; nearest,
// the Kronecker-optimal layer blocks of the same matrix
// (approx.ModelNearestKronecker, which keeps the exact block of a layer
// without a Kronecker form); K-FAC and EKFAC where their factor kind
// approximates kind; TONGA for the gradient covariance (centered) and the
// empirical Fisher (uncentered).
func candidates(kind curvature.Kind, M *mat.SymDense, layers [][]int, nearest candidate, na networkApprox) []candidate {
	var cs []candidate
	d, err := approx.DiagonalOf(M, 0)
	cs = append(cs, candidate{"diagonal", d, err})
	bd, err := approx.BlockDiagonalOf(M, layers, 0)
	cs = append(cs, candidate{"block_diagonal", bd, err})
	for _, k := range na.kfacTargets {
		if k == kind {
			cs = append(cs, candidate{"kfac", na.kfac, nil}, candidate{"ekfac", na.ekfac, nil})
		}
	}
	cs = append(cs, nearest)
	switch kind {
	case curvature.GradientCovariance:
		cs = append(cs, candidate{"tonga", na.tonga, nil})
	case curvature.EmpiricalFisher:
		cs = append(cs, candidate{"tonga", na.tongaUncentr, nil})
	}
	return cs
}

// compare measures every candidate against M with the damped solve of
// grad, and returns the rows of errors.csv: M's own (λ and its top
// eigenvalues) once, then each candidate's. Metrics that cannot be
// computed (a zero matrix, a solve that fails) are NaN, and a note goes to
// log. done is called after each candidate.
func compare(kind curvature.Kind, M *mat.SymDense, lambda float64, grad []float64, cs []candidate, log io.Writer, done func()) ([]data.Record, error) {
	exact, err := approx.NewSymMatrix(M, 0) // caches the exact solve's Cholesky factor
	if err != nil {
		return nil, err
	}
	matrix := kind.String()
	if lambda == 0 {
		fmt.Fprintf(log, "note: %v is zero; relative errors against it are NaN\n", kind)
	}
	k := min(topK, M.SymmetricDim())
	var rows []data.Record
	exactRows := false
	for _, c := range cs {
		var cmp *approx.Comparison
		switch {
		case c.err != nil:
			fmt.Fprintf(log, "note: %s of %v: %v; its metrics are NaN\n", c.name, kind, c.err)
		case lambda == 0:
		default:
			cmp, err = approx.Compare(exact, c.a, grad, lambda, k, nil)
			if err != nil {
				fmt.Fprintf(log, "note: %s against %v: %v; its metrics are NaN\n", c.name, kind, err)
				cmp = nil
			} else if cmp.SolveErr != nil {
				fmt.Fprintf(log, "note: %s against %v: %v; solve metrics are NaN\n", c.name, kind, cmp.SolveErr)
			}
		}
		if cmp == nil {
			for _, m := range errorMetrics {
				rows = append(rows, data.Record{Matrix: matrix, Approximation: c.name, Metric: m, Value: math.NaN()})
			}
		} else {
			if !exactRows {
				rows = append(rows, cmp.ExactRecords(0, matrix)...)
				exactRows = true
			}
			rows = append(rows, cmp.Records(0, matrix, c.name)...)
		}
		done()
	}
	if !exactRows {
		rows = append(rows, data.Record{Matrix: matrix, Approximation: "exact", Metric: approx.MetricLambda, Value: lambda})
	}
	return rows, nil
}
