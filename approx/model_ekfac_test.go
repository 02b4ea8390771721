package approx

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// ekfacCase pairs a K-FAC factor kind with the matrix it approximates
// (with the same labels for the Monte-Carlo kinds: both generators are
// seeded alike and draw labels in the same order).
type ekfacCase struct {
	ks     KFACSettings
	matrix curvature.Kind
	opt    *curvature.Options
}

func ekfacCases() []ekfacCase {
	return []ekfacCase{
		{KFACSettings{Factors: ExactFactors}, curvature.GGN, nil},
		{KFACSettings{Factors: ExactFactors}, curvature.Fisher, nil},
		{KFACSettings{Factors: MCFactors, Samples: 3, Seed: 7}, curvature.MCFisher, &curvature.Options{Samples: 3, Seed: 7}},
		{KFACSettings{Factors: EmpiricalFactors}, curvature.EmpiricalFisher, nil},
	}
}

// ModelEKFAC's K-FAC is ModelKFAC's; its scales are the diagonal of QᵀMQ
// in the K-FAC eigenbasis for the matrix the factors approximate, which
// EKFACOf computes from the dense matrix by another route; hence it is no
// farther from that matrix than K-FAC in Frobenius norm.
func TestModelEKFAC(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		m, theta, b := netFixture(t, []int{3, 5, 4, 3}, []string{"tanh", "tanh", "identity"}, loss, 12, 31)
		for _, c := range ekfacCases() {
			t.Run(fmt.Sprintf("%s/%v/%v", loss.Name(), c.ks.Factors, c.matrix), func(t *testing.T) {
				ek, err := ModelEKFAC(m, theta, b, &c.ks)
				require.NoError(t, err)
				kf := ek.KFAC()
				ref, err := ModelKFAC(m, theta, b, &c.ks)
				require.NoError(t, err)
				assert.Less(t, relDiffMat(kf.Dense(), ref.Dense()), 1e-13, "K-FAC differs from ModelKFAC")

				M, err := m.Dense(c.matrix, theta, b, c.opt)
				require.NoError(t, err)
				best, err := EKFACOf(kf, M)
				require.NoError(t, err)
				for l := 0; l < ek.NumBlocks(); l++ {
					got, _ := ek.Block(l)
					want, _ := best.Block(l)
					assert.Less(t, relDiff(got.(*EigenKron).Scaling(), want.(*EigenKron).Scaling()), 1e-11, "layer %d scales", l)
				}
				eErr, kErr := frobeniusErrors(t, M, ek, kf)
				assert.LessOrEqual(t, eErr, kErr*(1+1e-12))
				assert.Greater(t, kErr-eErr, 1e-6, "EKFAC should improve on K-FAC of a nonlinear net")
			})
		}
	}
}

// On one linear layer with the MSE loss the exact K-FAC is the GGN, and so
// is the EKFAC: nothing to correct.
func TestModelEKFACExactWhereKFACIs(t *testing.T) {
	m, theta, b := netFixture(t, []int{4, 3}, []string{"identity"}, nn.MSE{}, 15, 32)
	ek, err := ModelEKFAC(m, theta, b, nil)
	require.NoError(t, err)
	G, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	assert.Less(t, relDiffMat(ek.Dense(), G), 1e-13)
}

// The Kronecker-optimal approximation is NearestKroneckerOf the dense
// matrix, layer blocks alone, and no farther from the matrix than K-FAC.
func TestModelNearestKronecker(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 5, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 14, 33)
	shapes, err := NetworkShapes(m.Net)
	require.NoError(t, err)
	for _, c := range ekfacCases() {
		t.Run(fmt.Sprintf("%v/%v", c.ks.Factors, c.matrix), func(t *testing.T) {
			s := &NearestKronSettings{Method: KronSVD}
			opt := c.opt
			nk, err := ModelNearestKronecker(m, c.matrix, theta, b, opt, s)
			require.NoError(t, err)
			M, err := m.Dense(c.matrix, theta, b, opt)
			require.NoError(t, err)
			ref, err := NearestKroneckerOf(M, shapes, s)
			require.NoError(t, err)
			assert.Less(t, relDiffMat(nk.Dense(), ref.Dense()), 1e-12)

			kf, err := ModelKFAC(m, theta, b, &c.ks)
			require.NoError(t, err)
			nErr, kErr := frobeniusErrors(t, M, nk, kf)
			assert.LessOrEqual(t, nErr, kErr*(1+1e-12))
		})
	}
	// Every Kind, including those K-FAC does not approximate, with the
	// default power iteration: the layer blocks' nearest products.
	for _, kind := range []curvature.Kind{curvature.Hessian, curvature.GradientCovariance} {
		nk, err := ModelNearestKronecker(m, kind, theta, b, nil, nil)
		require.NoError(t, err)
		M, err := m.Dense(kind, theta, b, nil)
		require.NoError(t, err)
		ref, err := NearestKroneckerOf(M, shapes, &NearestKronSettings{Method: KronSVD})
		require.NoError(t, err)
		assert.Less(t, relDiffMat(nk.Dense(), ref.Dense()), 1e-6, "%v", kind)
	}
}

func TestModelEKFACErrors(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 4, 2}, []string{"tanh", "identity"}, nn.MSE{}, 4, 34)
	bad := append([]float64(nil), theta...)
	bad[2] = math.Inf(1)
	cases := []struct {
		name string
		run  func() error
	}{
		{"Inf θ", func() error { _, err := ModelEKFAC(m, bad, b, nil); return err }},
		{"negative samples", func() error {
			_, err := ModelEKFAC(m, theta, b, &KFACSettings{Factors: MCFactors, Samples: -1})
			return err
		}},
		{"unknown kind", func() error { _, err := ModelEKFAC(m, theta, b, &KFACSettings{Factors: 9}); return err }},
		{"budget", func() error {
			// K-FAC needs 4²+4²+2²+5² = 61 floats, EKFAC 61 + 16+10 = 87.
			_, err := ModelEKFAC(m, theta, b, &KFACSettings{Budget: 70})
			return err
		}},
		{"Kronecker-optimal NaN θ", func() error {
			_, err := ModelNearestKronecker(m, curvature.GGN, bad, b, nil, nil)
			return err
		}},
		{"Kronecker-optimal budget", func() error {
			_, err := ModelNearestKronecker(m, curvature.GGN, theta, b, nil, &NearestKronSettings{Kron: KronSettings{Budget: 60}})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Error(t, c.run()) })
	}
	_, err := ModelEKFAC(m, theta, b, &KFACSettings{Budget: 87})
	assert.NoError(t, err)
}

// The weighted EKFAC's scales are the diagonal of QᵀMQ for the weighted
// matrix its factors approximate (EKFACOf from the dense matrix, another
// route), for the losses whose exact factors take the output Fisher.
func TestModelEKFACWeighted(t *testing.T) {
	for _, loss := range labelled {
		m, theta, b := labelledFixture(t, []int{3, 5, 4}, []string{"tanh", "identity"}, loss, 9, 6)
		b.W = []float64{0.5, 2, 0, 1, 1.5, 0.25, 3, 1, 0.75}
		for _, c := range []ekfacCase{
			{KFACSettings{Factors: ExactFactors}, curvature.Fisher, nil},
			{KFACSettings{Factors: MCFactors, Samples: 2, Seed: 7}, curvature.MCFisher, &curvature.Options{Samples: 2, Seed: 7}},
			{KFACSettings{Factors: EmpiricalFactors}, curvature.EmpiricalFisher, nil},
		} {
			t.Run(fmt.Sprintf("%s/%v", loss.Name(), c.ks.Factors), func(t *testing.T) {
				ek, err := ModelEKFAC(m, theta, b, &c.ks)
				require.NoError(t, err)
				M, err := m.Dense(c.matrix, theta, b, c.opt)
				require.NoError(t, err)
				best, err := EKFACOf(ek.KFAC(), M)
				require.NoError(t, err)
				for l := 0; l < ek.NumBlocks(); l++ {
					got, _ := ek.Block(l)
					want, _ := best.Block(l)
					assert.Less(t, relDiff(got.(*EigenKron).Scaling(), want.(*EigenKron).Scaling()), 1e-11, "layer %d scales", l)
				}
			})
		}
	}
}

// frobeniusErrors returns the relative Frobenius errors of a and b as
// approximations of m.
func frobeniusErrors(t *testing.T, m mat.Symmetric, a, b curvature.Operator) (float64, float64) {
	t.Helper()
	exact := curvature.NewDense(m)
	aErr, err := RelFrobeniusError(exact, a)
	require.NoError(t, err)
	bErr, err := RelFrobeniusError(exact, b)
	require.NoError(t, err)
	return aErr, bErr
}
