package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// The output Fisher of the two FisherLosses against independent oracles:
// for class-weighted cross-entropy the expectation E_y[∇ℓ ∇ℓᵀ] by
// enumerating the C labels with their probabilities softmax(z), each
// gradient from Grad; for the Gaussian negative log-likelihood its closed
// form diag(e^{−s}, ½). FisherVec is F_z·v from the factor.
func TestOutputFisher(t *testing.T) {
	const c = 4
	rng := rand.New(rand.NewPCG(3, 3))
	for _, loss := range labelled(c) {
		f := loss.(FisherLoss)
		t.Run(loss.Name(), func(t *testing.T) {
			for range 3 {
				z := randomDense(1, c, rng)
				want := mat.NewDense(c, c, nil)
				switch l := loss.(type) {
				case WeightedSoftmaxCrossEntropy:
					p := make([]float64, c)
					softmaxTo(p, z.RawRowView(0))
					g := mat.NewDense(1, c, nil)
					for k := 0; k < c; k++ {
						l.Grad(g, z, mat.NewDense(1, 1, []float64{float64(k)}))
						var gg mat.Dense
						gg.Outer(p[k], g.RowView(0), g.RowView(0))
						want.Add(want, &gg)
					}
				case GaussianNLL:
					for d := 0; d < c/2; d++ {
						want.Set(d, d, math.Exp(-z.At(0, c/2+d)))
						want.Set(c/2+d, c/2+d, 0.5)
					}
				}
				s := mat.NewDense(c, c, nil)
				f.FisherFactor(s, z.RawRowView(0))
				var sst mat.Dense
				sst.Mul(s, s.T())
				assert.True(t, mat.EqualApprox(&sst, want, 1e-14), "S Sᵀ = F_z:\n%v\nwant\n%v", mat.Formatted(&sst), mat.Formatted(want))

				v := randomDense(1, c, rng)
				fv := mat.NewDense(1, c, nil)
				f.FisherVec(fv, z, v)
				var wantV mat.VecDense
				wantV.MulVec(want, v.RowView(0))
				assert.InDeltaSlice(t, wantV.RawVector().Data, fv.RawRowView(0), 1e-14, "FisherVec")
			}
		})
	}
}

// Without weights, or with every weight 1, class-weighted cross-entropy is
// softmax cross-entropy bit for bit, and its output Fisher is the output
// Hessian; with weights its value, gradient and Hessian are w_y times
// cross-entropy's.
func TestWeightedCrossEntropyReduces(t *testing.T) {
	const n, c = 5, 4
	rng := rand.New(rand.NewPCG(4, 4))
	z := randomDense(n, c, rng)
	y := randomTargets(SoftmaxCrossEntropy{}, n, c, rng)
	v := randomDense(n, c, rng)
	ce := SoftmaxCrossEntropy{}
	w := []float64{0.5, 2, 0, 1.5}
	for _, tc := range []struct {
		name string
		loss WeightedSoftmaxCrossEntropy
		w    []float64
	}{
		{"nil weights", WeightedSoftmaxCrossEntropy{}, []float64{1, 1, 1, 1}},
		{"unit weights", WeightedSoftmaxCrossEntropy{Weights: []float64{1, 1, 1, 1}}, []float64{1, 1, 1, 1}},
		{"weights", WeightedSoftmaxCrossEntropy{Weights: w}, w},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.loss
			wy := func(i int) float64 { return tc.w[int(y.At(i, 0))] }
			a, b := make([]float64, n), make([]float64, n)
			ce.Value(a, z, y)
			l.Value(b, z, y)
			ga, gb := mat.NewDense(n, c, nil), mat.NewDense(n, c, nil)
			ce.Grad(ga, z, y)
			l.Grad(gb, z, y)
			ha, hb := mat.NewDense(n, c, nil), mat.NewDense(n, c, nil)
			ce.HessVec(ha, z, y, v)
			l.HessVec(hb, z, y, v)
			for i := 0; i < n; i++ {
				assert.Equal(t, wy(i)*a[i], b[i], "value of sample %d", i)
				for k := 0; k < c; k++ {
					assert.Equal(t, wy(i)*ga.At(i, k), gb.At(i, k), "gradient (%d, %d)", i, k)
					assert.InDelta(t, wy(i)*ha.At(i, k), hb.At(i, k), 1e-15, "HessVec (%d, %d)", i, k)
				}
				H := mat.NewSymDense(c, nil)
				l.Hessian(H, z.RawRowView(i), y.RawRowView(i))
				Hce := mat.NewSymDense(c, nil)
				ce.Hessian(Hce, z.RawRowView(i), nil)
				var want mat.SymDense
				want.ScaleSym(wy(i), Hce)
				assert.True(t, mat.EqualApprox(H, &want, 1e-15), "Hessian of sample %d", i)
				if tc.name != "weights" {
					s := mat.NewDense(c, c, nil)
					l.FisherFactor(s, z.RawRowView(i))
					var sst mat.Dense
					sst.Mul(s, s.T())
					assert.True(t, mat.EqualApprox(&sst, H, 1e-15), "F_z = H_z with unit weights")
				}
			}
		})
	}
}

// The Gaussian's sampler draws y = μ + e^{s/2} ε: the sample mean and
// variance of each component are within five standard errors of μ and e^s
// (the variance of the sample variance of a Gaussian is 2σ⁴/n), and
// Predict and Variance give μ and e^s.
func TestGaussianSample(t *testing.T) {
	const draws = 40000
	rng := rand.New(rand.NewPCG(5, 5))
	z := []float64{0.4, -1.3, 0.7, -0.9}
	mean, sq := make([]float64, 2), make([]float64, 2)
	y := make([]float64, 2)
	for range draws {
		GaussianNLL{}.Sample(y, z, rng)
		for d, v := range y {
			mean[d] += v / draws
			sq[d] += v * v / draws
		}
	}
	for d := range 2 {
		sigma2 := math.Exp(z[2+d])
		assert.InDelta(t, z[d], mean[d], 5*math.Sqrt(sigma2/draws), "mean %d", d)
		assert.InDelta(t, sigma2, sq[d]-mean[d]*mean[d], 5*sigma2*math.Sqrt(2.0/draws), "variance %d", d)
	}
	zm := mat.NewDense(1, 4, z)
	pred, variance := mat.NewDense(1, 2, nil), mat.NewDense(1, 2, nil)
	GaussianNLL{}.Predict(pred, zm)
	GaussianNLL{}.Variance(variance, zm)
	assert.Equal(t, []float64{0.4, -1.3}, pred.RawRowView(0))
	assert.Equal(t, []float64{math.Exp(0.7), math.Exp(-0.9)}, variance.RawRowView(0))
	MSE{}.Variance(pred, pred)
	assert.Equal(t, []float64{1, 1}, pred.RawRowView(0))
	assert.PanicsWithValue(t, "nn: gaussian_nll on 3 outputs; it needs an even number", func() {
		GaussianNLL{}.Sample(y, z[:3], rng)
	})
}

// torchLosses is testdata/torch_losses.json, written by
// testdata/gen_torch_losses.py with PyTorch 1.13.
type torchLosses struct {
	Gaussian struct {
		N, D      int
		Z, Y      [][]float64
		Sum, Mean float64
		GradSum   [][]float64 `json:"grad_sum"`
		Hessians  [][][]float64
	} `json:"gaussian_nll"`
	WeightedCE struct {
		N, C      int
		Z         [][]float64
		Y         []int
		Weights   []float64
		Sum, Mean float64
		GradSum   [][]float64 `json:"grad_sum"`
		GradMean  [][]float64 `json:"grad_mean"`
		Hessians  [][][]float64
	} `json:"weighted_ce"`
}

func readTorchLosses(t *testing.T) *torchLosses {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "torch_losses.json"))
	require.NoError(t, err)
	var ref torchLosses
	require.NoError(t, json.Unmarshal(raw, &ref))
	return &ref
}

func rowsDense(rows [][]float64) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

// The Gaussian negative log-likelihood is PyTorch's GaussianNLLLoss
// (full=False) with var = e^s: the sum reduction is the sum of the
// per-sample losses, the mean reduction that over N·D, and the gradient and
// each sample's Hessian are autograd's, to rounding.
func TestGaussianNLLAgainstTorch(t *testing.T) {
	ref := readTorchLosses(t).Gaussian
	z, y := rowsDense(ref.Z), rowsDense(ref.Y)
	l := GaussianNLL{}
	vals := make([]float64, ref.N)
	sum := l.Value(vals, z, y)
	assert.InDelta(t, ref.Sum, sum, 1e-14*math.Abs(ref.Sum))
	assert.InDelta(t, ref.Mean, sum/float64(ref.N*ref.D), 1e-14*math.Abs(ref.Mean))
	g := mat.NewDense(ref.N, 2*ref.D, nil)
	l.Grad(g, z, y)
	assert.True(t, mat.EqualApprox(g, rowsDense(ref.GradSum), 1e-14), "gradient")
	H := mat.NewSymDense(2*ref.D, nil)
	for i := 0; i < ref.N; i++ {
		l.Hessian(H, z.RawRowView(i), y.RawRowView(i))
		assert.True(t, mat.EqualApprox(H, rowsDense(ref.Hessians[i]), 1e-14), "Hessian of sample %d", i)
	}
}

// Class-weighted cross-entropy is PyTorch's CrossEntropyLoss(weight=w):
// the sum reduction is the sum of the per-sample losses, with gradients
// and Hessians to rounding. PyTorch's mean reduction, Σ w_{y_i} ℓ_i /
// Σ w_{y_i}, is softmax cross-entropy weighted per sample by w_{y_i}: on a
// tape of the identity layer z = x (a Dense layer with W = I, b = 0), the
// weighted mean loss is PyTorch's and the gradient in b is the sum of
// PyTorch's gradient rows, in W the product of their transpose with x.
func TestWeightedCrossEntropyAgainstTorch(t *testing.T) {
	ref := readTorchLosses(t).WeightedCE
	n, c := ref.N, ref.C
	z := rowsDense(ref.Z)
	y := mat.NewDense(n, 1, nil)
	for i, k := range ref.Y {
		y.Set(i, 0, float64(k))
	}
	l := WeightedSoftmaxCrossEntropy{Weights: ref.Weights}
	vals := make([]float64, n)
	assert.InDelta(t, ref.Sum, l.Value(vals, z, y), 1e-14*ref.Sum)
	g := mat.NewDense(n, c, nil)
	l.Grad(g, z, y)
	assert.True(t, mat.EqualApprox(g, rowsDense(ref.GradSum), 1e-14), "gradient")
	H := mat.NewSymDense(c, nil)
	for i := 0; i < n; i++ {
		l.Hessian(H, z.RawRowView(i), y.RawRowView(i))
		assert.True(t, mat.EqualApprox(H, rowsDense(ref.Hessians[i]), 1e-14), "Hessian of sample %d", i)
	}

	net, err := New(Dense{In: c, Out: c})
	require.NoError(t, err)
	theta := make([]float64, net.NumParams())
	for k := 0; k < c; k++ {
		theta[k*(c+1)+k] = 1
	}
	w := make([]float64, n)
	for i, k := range ref.Y {
		w[i] = ref.Weights[k]
	}
	tp := NewTape(net, SoftmaxCrossEntropy{})
	tp.SetWeights(w)
	tp.Forward(theta, z)
	assert.InDelta(t, ref.Mean, tp.LossValue(y), 1e-14*ref.Mean)
	grad := make([]float64, len(theta))
	tp.Backward(grad, nil, y)
	gz := rowsDense(ref.GradMean)
	want := make([]float64, len(theta))
	for o := 0; o < c; o++ {
		for i := 0; i < n; i++ {
			for j := 0; j < c; j++ {
				want[o*(c+1)+j] += gz.At(i, o) * z.At(i, j)
			}
			want[o*(c+1)+c] += gz.At(i, o)
		}
	}
	relClose(t, want, grad, 1e-14, "gradient of PyTorch's mean")
}

// The losses' per-row methods and the products allocate nothing: they run
// in the inner loops of the curvature assembly and of K-FAC.
func TestLossesAllocationFree(t *testing.T) {
	const n, c = 4, 6
	rng := rand.New(rand.NewPCG(6, 6))
	for _, loss := range append(losses, labelled(c)...) {
		z := randomDense(n, c, rng)
		y := randomTargets(loss, n, c, rng)
		v, dst := randomDense(n, c, rng), mat.NewDense(n, c, nil)
		H, S := mat.NewSymDense(c, nil), mat.NewDense(c, c, nil)
		vals := make([]float64, n)
		zr, yr := z.RawRowView(0), y.RawRowView(0)
		allocs := testing.AllocsPerRun(20, func() {
			loss.Value(vals, z, y)
			loss.Grad(dst, z, y)
			loss.HessVec(dst, z, y, v)
			loss.Hessian(H, zr, yr)
			loss.Factor(S, zr, yr)
			if f, ok := loss.(FisherLoss); ok {
				f.FisherFactor(S, zr)
				f.FisherVec(dst, z, v)
			}
		})
		assert.Zero(t, allocs, loss.Name())
	}
}
