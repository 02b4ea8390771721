package approx

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// ekfacCase pairs a K-FAC factor kind with the matrix it approximates
// (with the same labels for the Monte-Carlo kinds: both generators are
// seeded alike and draw labels in the same order).
type ekfacCase struct {
	fs     FactorSettings
	matrix curvature.Kind
	opt    *curvature.Options
}

func ekfacCases() []ekfacCase {
	return []ekfacCase{
		{FactorSettings{Kind: ExactFactors}, curvature.GGN, nil},
		{FactorSettings{Kind: ExactFactors}, curvature.Fisher, nil},
		{FactorSettings{Kind: MCFactors, Samples: 3, Seed: 7}, curvature.MCFisher, &curvature.Options{Samples: 3, Seed: 7}},
		{FactorSettings{Kind: EmpiricalFactors}, curvature.EmpiricalFisher, nil},
	}
}

// EKFACOf's K-FAC is KFACOf's; its scales are the diagonal of QᵀMQ in the
// K-FAC eigenbasis for the matrix the factors approximate, which
// EKFACFromMatrix computes from the dense matrix by another route; hence
// it is no farther from that matrix than K-FAC in Frobenius norm.
func TestEKFACOf(t *testing.T) {
	for _, loss := range []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}} {
		m, theta, b := netFixture(t, []int{3, 5, 4, 3}, []string{"tanh", "tanh", "identity"}, loss, 12, 31)
		for _, c := range ekfacCases() {
			t.Run(fmt.Sprintf("%s/%v/%v", loss.Name(), c.fs.Kind, c.matrix), func(t *testing.T) {
				ek, kf, err := EKFACOf(m, theta, b, &c.fs, nil)
				require.NoError(t, err)
				ref, err := KFACOf(m, theta, b, &c.fs, nil)
				require.NoError(t, err)
				assert.Less(t, relDiffMat(kf.Dense(), ref.Dense()), 1e-13, "K-FAC differs from KFACOf")

				M, err := m.Dense(c.matrix, theta, b, c.opt)
				require.NoError(t, err)
				best, err := EKFACFromMatrix(kf, M, 0)
				require.NoError(t, err)
				for l := 0; l < ek.NumLayers(); l++ {
					assert.Less(t, relDiff(ek.Layer(l).Scaling(), best.Layer(l).Scaling()), 1e-11, "layer %d scales", l)
				}
				exact := curvature.NewDense(M)
				eErr, err := RelFrobeniusError(exact, ek)
				require.NoError(t, err)
				kErr, err := RelFrobeniusError(exact, kf)
				require.NoError(t, err)
				assert.LessOrEqual(t, eErr, kErr*(1+1e-12))
				assert.Greater(t, kErr-eErr, 1e-6, "EKFAC should improve on K-FAC of a nonlinear net")
			})
		}
	}
}

// On one linear layer with the MSE loss the exact K-FAC is the GGN, and so
// is the EKFAC: nothing to correct.
func TestEKFACOfExactWhereKFACIs(t *testing.T) {
	m, theta, b := netFixture(t, []int{4, 3}, []string{"identity"}, nn.MSE{}, 15, 32)
	ek, _, err := EKFACOf(m, theta, b, nil, nil)
	require.NoError(t, err)
	G, err := m.Dense(curvature.GGN, theta, b, nil)
	require.NoError(t, err)
	assert.Less(t, relDiffMat(ek.Dense(), G), 1e-13)
}

// The Kronecker-optimal approximation is NearestKronecker of the dense
// matrix, layer blocks alone, and no farther from the matrix than K-FAC.
func TestModelNearestKronecker(t *testing.T) {
	m, theta, b := netFixture(t, []int{3, 5, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 14, 33)
	shapes, err := NetworkShapes(m.Net)
	require.NoError(t, err)
	for _, c := range ekfacCases() {
		t.Run(fmt.Sprintf("%v/%v", c.fs.Kind, c.matrix), func(t *testing.T) {
			s := &NearestKronSettings{Method: KronSVD}
			opt := c.opt
			nk, err := ModelNearestKronecker(m, c.matrix, theta, b, opt, s)
			require.NoError(t, err)
			M, err := m.Dense(c.matrix, theta, b, opt)
			require.NoError(t, err)
			ref, err := NearestKronecker(M, shapes, s)
			require.NoError(t, err)
			assert.Less(t, relDiffMat(nk.Dense(), ref.Dense()), 1e-12)

			kf, err := KFACOf(m, theta, b, &c.fs, nil)
			require.NoError(t, err)
			exact := curvature.NewDense(M)
			nErr, err := RelFrobeniusError(exact, nk)
			require.NoError(t, err)
			kErr, err := RelFrobeniusError(exact, kf)
			require.NoError(t, err)
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
		ref, err := NearestKronecker(M, shapes, &NearestKronSettings{Method: KronSVD})
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
		{"Inf θ", func() error { _, _, err := EKFACOf(m, bad, b, nil, nil); return err }},
		{"negative samples", func() error {
			_, _, err := EKFACOf(m, theta, b, &FactorSettings{Kind: MCFactors, Samples: -1}, nil)
			return err
		}},
		{"unknown kind", func() error { _, _, err := EKFACOf(m, theta, b, &FactorSettings{Kind: 9}, nil); return err }},
		{"budget", func() error {
			// K-FAC needs 4²+4²+2²+5² = 61 floats, EKFAC 61+16+10 = 87.
			_, _, err := EKFACOf(m, theta, b, nil, &KFACSettings{Budget: 70})
			return err
		}},
		{"Kronecker-optimal NaN θ", func() error {
			_, err := ModelNearestKronecker(m, curvature.GGN, bad, b, nil, nil)
			return err
		}},
		{"Kronecker-optimal budget", func() error {
			_, err := ModelNearestKronecker(m, curvature.GGN, theta, b, nil, &NearestKronSettings{KFAC: KFACSettings{Budget: 60}})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Error(t, c.run()) })
	}
	_, _, err := EKFACOf(m, theta, b, nil, &KFACSettings{Budget: 87})
	assert.NoError(t, err)
}
