package data_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/data"
)

func ExampleDigits() {
	digits, err := data.Digits()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("samples:", digits.Len(), "inputs:", digits.InputDim(), "classes:", digits.Classes)
	fmt.Println("samples per class:", digits.ClassCounts())
	fmt.Println("input range:", mat.Min(digits.X), mat.Max(digits.X))

	train, test, err := digits.Split(0.8, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train:", train.Len(), "test:", test.Len())
	// Output:
	// samples: 1797 inputs: 64 classes: 10
	// samples per class: [178 182 177 183 181 182 181 179 174 180]
	// input range: 0 1
	// train: 1438 test: 359
}

func ExampleReadCSV() {
	// Two inputs then a class label, after a header line.
	const in = `x1,x2,class
0.5,1.5,0
2.0,-1.0,2
`
	set, err := data.ReadCSV(strings.NewReader(in), data.CSVOptions{Inputs: 2, Classes: 3, Skip: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("X = %v\n", mat.Formatted(set.X, mat.Prefix("    ")))
	fmt.Println("labels:", set.Label(0), set.Label(1))

	// Errors give the line and column.
	_, err = data.ReadCSV(strings.NewReader("1,2,0\n3,4,7\n"), data.CSVOptions{Classes: 3})
	fmt.Println(err)
	// Output:
	// X = ⎡0.5  1.5⎤
	//     ⎣  2   -1⎦
	// labels: 0 2
	// data: line 2: column 3: class label 7 out of range [0, 3)
}

func ExampleBatches() {
	iris, err := data.Iris()
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatches(iris, 64, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	for epoch := 0; epoch < 2; epoch++ {
		for batches.Next() {
			r, c := batches.X().Dims()
			fmt.Printf("epoch %d: batch of %d×%d\n", epoch, r, c)
		}
	}
	// Output:
	// epoch 0: batch of 64×4
	// epoch 0: batch of 64×4
	// epoch 0: batch of 22×4
	// epoch 1: batch of 64×4
	// epoch 1: batch of 64×4
	// epoch 1: batch of 22×4
}
