package approx

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// stateNet is a network with a Kronecker, a dense (LayerNorm) and a
// second Kronecker block, a loss and batches for it.
func stateNet(t *testing.T) (*nn.Network, nn.Loss, []float64, []curvature.Batch) {
	t.Helper()
	net, err := nn.New(nn.Dense{In: 4, Out: 5}, nn.Elementwise{Size: 5, Act: nn.Tanh{}}, nn.LayerNorm{Size: 5}, nn.Dense{In: 5, Out: 3})
	require.NoError(t, err)
	rnd := newRand(81)
	theta := make([]float64, net.NumParams())
	net.Init(theta, rnd)
	var batches []curvature.Batch
	for range 5 {
		y := mat.NewDense(6, 1, nil)
		for i := 0; i < 6; i++ {
			y.Set(i, 0, float64(rnd.IntN(3)))
		}
		batches = append(batches, curvature.Batch{X: randDense(rnd, 6, 4), Y: y})
	}
	return net, nn.SoftmaxCrossEntropy{}, theta, batches
}

// kfacRun updates k on batches[from:to], factorising at λ after batches
// 0, 3, 6, … (so that the factorisation lags behind the statistics, as in
// the optimizer), and returns, after each batch, a product and a damped
// solve: the numbers a user of the K-FAC sees.
func kfacRun(t *testing.T, k *KFAC, net *nn.Network, loss nn.Loss, theta []float64, batches []curvature.Batch, from, to int, lambda float64) [][]float64 {
	t.Helper()
	tape := nn.NewTape(net, loss)
	v := make([]float64, k.Dim())
	for i := range v {
		v[i] = math.Sin(float64(i) + 0.5)
	}
	var out [][]float64
	for i := from; i < to; i++ {
		b := batches[i]
		tape.Forward(theta, b.X)
		require.NoError(t, k.Update(tape, b.Y, 0.6))
		if i%3 == 0 {
			require.NoError(t, k.Factorize(lambda))
		}
		mul, sol := make([]float64, len(v)), make([]float64, len(v))
		k.MulVecTo(mul, v)
		require.NoError(t, k.SolveDampedTo(sol, v, lambda))
		out = append(out, mul, sol)
	}
	return out
}

// sameBits reports whether a and b hold the same float64 bits.
func sameBits(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// A K-FAC saved after some updates and restored into a fresh one of the
// same settings continues bit for bit: the Monte-Carlo labels (its own
// generator), the statistics and the factorisations that lag behind
// them, for Kronecker and dense blocks, with the Cholesky and the eigen
// solvers.
func TestKFACMarshalBinary(t *testing.T) {
	net, loss, theta, batches := stateNet(t)
	for name, set := range map[string]KFACSettings{
		"mc/factored/cholesky": {Factors: MCFactors, Samples: 2, Seed: 5, Damping: FactoredDamping, Solver: CholeskySolver},
		"mc/exact/eigen":       {Factors: MCFactors, Seed: 6},
		"exact/factored/eigen": {Factors: ExactFactors, Damping: FactoredDamping},
	} {
		t.Run(name, func(t *testing.T) {
			whole, err := NewKFAC(net, &set)
			require.NoError(t, err)
			want := kfacRun(t, whole, net, loss, theta, batches, 0, 5, 0.1)

			first, err := NewKFAC(net, &set)
			require.NoError(t, err)
			kfacRun(t, first, net, loss, theta, batches, 0, 2, 0.1)
			if set.Solver == EigenSolver {
				_, err := first.LogDet(0.1) // the eigendecompositions are made and kept
				require.NoError(t, err)
			}
			state, err := first.MarshalBinary()
			require.NoError(t, err)

			fresh, err := NewKFAC(net, &set)
			require.NoError(t, err)
			require.NoError(t, fresh.UnmarshalBinary(state))
			again, err := fresh.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, state, again, "the restored K-FAC saves the same state")
			got := kfacRun(t, fresh, net, loss, theta, batches, 2, 5, 0.1)
			assert.True(t, sameBits(want[4:], got), "bit for bit")
		})
	}
}

// A generator of the caller's is not saved: restoring its source as well
// gives the same run; a state and a K-FAC that disagree on whose the
// generator is are refused.
func TestKFACMarshalCallersRand(t *testing.T) {
	net, loss, theta, batches := stateNet(t)
	pcg := rand.NewPCG(7, 7)
	set := KFACSettings{Factors: MCFactors, Rand: rand.New(pcg)}
	whole, err := NewKFAC(net, &set)
	require.NoError(t, err)
	want := kfacRun(t, whole, net, loss, theta, batches, 0, 5, 0.2)

	pcg.Seed(7, 7)
	first, err := NewKFAC(net, &set)
	require.NoError(t, err)
	kfacRun(t, first, net, loss, theta, batches, 0, 3, 0.2)
	state, err := first.MarshalBinary()
	require.NoError(t, err)
	src, err := pcg.MarshalBinary()
	require.NoError(t, err)

	pcg2 := rand.NewPCG(0, 0)
	require.NoError(t, pcg2.UnmarshalBinary(src))
	fresh, err := NewKFAC(net, &KFACSettings{Factors: MCFactors, Rand: rand.New(pcg2)})
	require.NoError(t, err)
	require.NoError(t, fresh.UnmarshalBinary(state))
	assert.True(t, sameBits(want[6:], kfacRun(t, fresh, net, loss, theta, batches, 3, 5, 0.2)))

	own, err := NewKFAC(net, &KFACSettings{Factors: MCFactors})
	require.NoError(t, err)
	assert.ErrorContains(t, own.UnmarshalBinary(state), "drew from the caller's random generator")
}

// A state that is corrupt, truncated, of another network or settings, or
// that holds values no update gives (written with a valid checksum), is
// refused and leaves the K-FAC as it was.
func TestKFACUnmarshalErrors(t *testing.T) {
	net, loss, theta, batches := stateNet(t)
	set := KFACSettings{Factors: ExactFactors, Damping: FactoredDamping, Solver: CholeskySolver}
	k, err := NewKFAC(net, &set)
	require.NoError(t, err)
	kfacRun(t, k, net, loss, theta, batches, 0, 2, 0.1)
	state, err := k.MarshalBinary()
	require.NoError(t, err)

	target, err := NewKFAC(net, &set)
	require.NoError(t, err)
	kfacRun(t, target, net, loss, theta, batches, 2, 3, 0.3)
	before, err := target.MarshalBinary()
	require.NoError(t, err)

	// resum rewrites the checksum, as a state edited on purpose would.
	resum := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
		return b
	}
	// at returns a copy of the state with the float64 of value old
	// (found by its bits) replaced by v.
	at := func(old, v float64) []byte {
		b := bytes.Clone(state)
		var bits [8]byte
		binary.LittleEndian.PutUint64(bits[:], math.Float64bits(old))
		i := bytes.Index(b, bits[:])
		require.GreaterOrEqual(t, i, 0)
		binary.LittleEndian.PutUint64(b[i:], math.Float64bits(v))
		return resum(b)
	}
	g, _ := k.Kron(0).Factors()
	flipped := bytes.Clone(state)
	flipped[len(flipped)/2] ^= 1
	other, err := NewKFAC(net, &KFACSettings{Factors: EmpiricalFactors, Damping: FactoredDamping, Solver: CholeskySolver})
	require.NoError(t, err)
	otherState, err := other.MarshalBinary()
	require.NoError(t, err)
	small, err := nn.NewMLP([]int{4, 5, 3}, []string{"tanh", "identity"})
	require.NoError(t, err)
	smallK, err := NewKFAC(small, &set)
	require.NoError(t, err)
	smallState, err := smallK.MarshalBinary()
	require.NoError(t, err)

	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "unexpected EOF"},
		{"not a state", []byte("CKFOSTAT and more bytes"), "not a K-FAC state"},
		{"truncated", state[:len(state)-9], "unexpected EOF"},
		{"trailing bytes", append(bytes.Clone(state), 0), "1 bytes after the state"},
		{"flipped bit", flipped, "checksum mismatch"},
		{"other factors", otherState, "factors, weight sharing, damping and solver"},
		{"other network", smallState, "blocks"},
		{"NaN statistic", at(g.At(0, 0), math.NaN()), "factor G value 0 is NaN"},
		{"negative diagonal", at(g.At(0, 0), -1), "factor G diagonal entry 0 is -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := target.UnmarshalBinary(c.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			after, err := target.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, before, after, "the K-FAC is as it was")
		})
	}
}
