package firstorder

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// iris holds Fisher's iris data (testdata/README.md), features standardised.
type iris struct {
	x     [][]float64 // 150 × 4
	label []int       // 0, 1, 2
}

func readIris(t testing.TB) iris {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header: 150,4,setosa,versicolor,virginica
	var d iris
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		row := make([]float64, 4)
		for j := range row {
			if row[j], err = strconv.ParseFloat(fields[j], 64); err != nil {
				t.Fatal(err)
			}
		}
		k, err := strconv.Atoi(fields[4])
		if err != nil {
			t.Fatal(err)
		}
		d.x = append(d.x, row)
		d.label = append(d.label, k)
	}
	if len(d.x) != 150 {
		t.Fatalf("read %d rows, want 150", len(d.x))
	}
	for j := range 4 {
		var mean, sq float64
		for _, r := range d.x {
			mean += r[j]
		}
		mean /= 150
		for _, r := range d.x {
			sq += (r[j] - mean) * (r[j] - mean)
		}
		sd := math.Sqrt(sq / 150)
		for _, r := range d.x {
			r[j] = (r[j] - mean) / sd
		}
	}
	return d
}

// Softmax regression: θ is the 3 × 5 matrix [W | b] row-major, so class k's
// weights and bias are θ[5k : 5k+5]; the loss is the mean cross-entropy.
const irisParams = 3 * 5

// lossGrad returns the mean loss over the samples idx and, if grad is not
// nil, writes its gradient: (softmax(z) − onehot(y)) ⊗ [x, 1] averaged.
func (d iris) lossGrad(grad, theta []float64, idx []int) float64 {
	clear(grad)
	var loss float64
	var z [3]float64
	for _, i := range idx {
		x := d.x[i]
		zmax := math.Inf(-1)
		for k := range 3 {
			w := theta[5*k : 5*k+5]
			z[k] = w[4] + w[0]*x[0] + w[1]*x[1] + w[2]*x[2] + w[3]*x[3]
			zmax = max(zmax, z[k])
		}
		var sum float64
		for k := range 3 {
			sum += math.Exp(z[k] - zmax)
		}
		loss += zmax + math.Log(sum) - z[d.label[i]]
		if grad == nil {
			continue
		}
		for k := range 3 {
			r := math.Exp(z[k]-zmax) / sum
			if k == d.label[i] {
				r--
			}
			g := grad[5*k : 5*k+5]
			for j := range 4 {
				g[j] += r * x[j]
			}
			g[4] += r
		}
	}
	n := float64(len(idx))
	for j := range grad {
		grad[j] /= n
	}
	return loss / n
}

func (d iris) accuracy(theta []float64) float64 {
	correct := 0
	for i, x := range d.x {
		best, arg := math.Inf(-1), 0
		for k := range 3 {
			w := theta[5*k : 5*k+5]
			if z := w[4] + w[0]*x[0] + w[1]*x[1] + w[2]*x[2] + w[3]*x[3]; z > best {
				best, arg = z, k
			}
		}
		if arg == d.label[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(d.x))
}

func TestIrisGradient(t *testing.T) {
	d := readIris(t)
	rnd := rand.New(rand.NewPCG(4, 4))
	all := make([]int, 150)
	for i := range all {
		all[i] = i
	}
	theta := make([]float64, irisParams)
	for i := range theta {
		theta[i] = rnd.NormFloat64()
	}
	got := make([]float64, irisParams)
	d.lossGrad(got, theta, all)
	want := fd.Gradient(nil, func(th []float64) float64 { return d.lossGrad(nil, th, all) }, theta,
		&fd.Settings{Formula: fd.Central, Step: 1e-5})
	if diff := relDiff(got, want); diff > 1e-8 {
		t.Fatalf("gradient differs from central differences by %.2g relative", diff)
	}
}

// TestIrisGradientDescent fits softmax regression to the iris data with SGD
// fed three gradient estimates — the full batch, one sample, and mini-batches
// of 10 — for the same number of epochs and learning rate. All three fit the
// data; the noisier estimates take more (cheaper) steps per epoch and end
// lower after the same number of passes.
func TestIrisGradientDescent(t *testing.T) {
	const epochs, lr = 30, 0.1
	d := readIris(t)
	all := make([]int, 150)
	for i := range all {
		all[i] = i
	}
	initial := math.Log(3) // loss at θ = 0
	losses := map[int]float64{}
	for _, batch := range []int{150, 1, 10} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(6, 6))
			theta := make([]float64, irisParams)
			grad := make([]float64, irisParams)
			opt, err := NewSGD(irisParams, SGDSettings{LR: lr})
			if err != nil {
				t.Fatal(err)
			}
			order := append([]int(nil), all...)
			for range epochs {
				rnd.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				for start := 0; start < len(order); start += batch {
					d.lossGrad(grad, theta, order[start:min(start+batch, len(order))])
					if err := opt.Step(theta, grad); err != nil {
						t.Fatal(err)
					}
				}
			}
			loss := d.lossGrad(nil, theta, all)
			acc := d.accuracy(theta)
			losses[batch] = loss
			t.Logf("%d steps: training loss %.4f (from %.4f), accuracy %.3f", opt.Steps(), loss, initial, acc)
			if opt.Steps() != epochs*((150+batch-1)/batch) {
				t.Errorf("%d steps, want one per batch", opt.Steps())
			}
			if !(loss < initial/2) || acc < 0.8 {
				t.Errorf("loss %.4f, accuracy %.3f: did not fit", loss, acc)
			}
		})
	}
	if !(losses[1] < losses[150] && losses[10] < losses[150]) {
		t.Errorf("after %d epochs full-batch loss %.4f is not above stochastic %.4f and mini-batch %.4f",
			epochs, losses[150], losses[1], losses[10])
	}
}
