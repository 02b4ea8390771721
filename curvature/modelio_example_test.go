package curvature_test

import (
	"fmt"
	"log"
	"os"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// A model read from model.json, its predictions, and the file written
// back. The linear layer's [W | b] is [I | 0], so the logits are the
// inputs.
func ExampleReadModel() {
	file := `{"input_shape": [2],
	          "layers": [{"type": "linear", "in_features": 2, "out_features": 2}],
	          "loss": "softmax_ce", "params": [1, 0, 0, 0, 1, 0]}`
	m, theta, err := curvature.ReadModel(strings.NewReader(file))
	if err != nil {
		log.Fatal(err)
	}
	x := mat.NewDense(3, 2, []float64{2, 0, 0, 1, 1, 1})
	prob, err := m.Probabilities(theta, x)
	if err != nil {
		log.Fatal(err)
	}
	class, err := m.Predict(theta, x)
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		fmt.Printf("x = %v: p = %.4f, class %v\n", x.RawRowView(i), prob.RawRowView(i), class.At(i, 0))
	}
	acc, err := m.Accuracy(theta, curvature.Batch{X: x, Y: mat.NewDense(3, 1, []float64{0, 1, 1})})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accuracy %.4f\n", acc)

	if err := curvature.WriteModel(os.Stdout, m, theta); err != nil {
		log.Fatal(err)
	}
	// Output:
	// x = [2 0]: p = [0.8808 0.1192], class 0
	// x = [0 1]: p = [0.2689 0.7311], class 1
	// x = [1 1]: p = [0.5000 0.5000], class 0
	// accuracy 0.6667
	// {
	//   "input_shape": [2],
	//   "layers": [
	//     {"type": "linear", "in_features": 2, "out_features": 2}
	//   ],
	//   "loss": "softmax_ce",
	//   "params": [1, 0, 0, 0, 1, 0]
	// }
}
