// Package data holds the data sets that models train and are tested on: a
// Set of input and target matrices, a CSV reader and writer, a seeded
// mini-batch iterator, one-hot encoding and standardisation, and two small
// real data sets embedded in the package, Digits and Iris.
//
// # Sets
//
// A Set holds N samples as the rows of two matrices: X (N×d) the inputs and
// Y (N×T) the targets. A classification set has Classes > 0 and one target
// column holding each sample's class index 0, 1, …, Classes−1 as a float64,
// which is what the softmax cross-entropy loss of package nn expects; OneHot
// expands it to an N×Classes indicator matrix. A regression or multi-label
// set has Classes = 0 and T target values per sample. Validate checks a Set
// built by hand; every Set this package returns is valid.
//
// # CSV format
//
// The CSV files shared with the project's other tools (and with notebooks in
// pandas, polars or R) hold one sample per line and no header, unless
// CSVOptions.Skip says to skip some leading lines:
//
//	x_1,x_2,…,x_d,label          classification: CSVOptions{Inputs: d, Classes: k}
//	x_1,x_2,…,x_d,y_1,…,y_T      regression:     CSVOptions{Inputs: d, Targets: T}
//
// Inputs 0 infers d from the first data row. Fields are plain decimal
// numbers (no quoting); NaN, infinities, ragged rows and labels outside
// 0…k−1 are errors that give the 1-based line and column. Gzip-compressed
// input is recognised by its magic bytes and decompressed. WriteCSV writes
// the same format with the shortest decimal form that reads back exactly.
//
// Fields are decimal numbers as every CSV reader takes them: Go's
// hexadecimal floats and digit separators (0x1p-2, 1_000), which
// strconv.ParseFloat also accepts, are errors. A leading UTF-8 byte-order
// mark is skipped.
//
// # Writing files
//
// WriteFileAtomic writes a file so that a crash leaves the old file or the
// complete new one: the data go to a temporary file in the same directory,
// "."+name+".tmp" and a random suffix, which is synced and renamed into
// place. WriteFiles writes several files as one set, the outputs of one
// run: all are complete before the first old one is replaced, so a crash
// leaves part of the old set or part of the new one, never one file of
// each. RemoveStaleTemps removes the temporary files of a process killed
// mid-write; a command calls it at the end of a successful run. Every file
// the toolkit's commands write goes through these.
//
// # Mini-batches
//
// Batches draws a new random order of the samples each epoch from a
// *rand.Rand, so a seed fixes the whole sequence of batches. Each batch is
// copied into buffers allocated once and reused: the matrices it returns are
// overwritten by the next batch, and iterating allocates nothing.
//
// # Standardisation
//
// Standardize maps each input column to zero mean and unit variance with the
// mean and (population, 1/N) standard deviation of the training set, applied
// unchanged to the test set so that no test statistic leaks into training.
//
// # Concurrency
//
// Goroutines may share a Set while none changes it: every function here
// only reads it but Standardize and Standardizer.Transform, which scale
// the inputs in place; Digits, Iris and the readers return a new Set on
// every call. A Batches iterator reuses its
// buffers and draws from its *rand.Rand: one goroutine at a time. The
// writers may run at once for different directories; two runs writing one
// directory at the same time may interleave their sets, and
// RemoveStaleTemps can remove the other's temporary files.
//
// # Embedded data
//
// Digits returns the 1,797 8×8 handwritten digits of UCI's "Optical
// Recognition of Handwritten Digits" (E. Alpaydin and C. Kaynak, CC BY 4.0,
// the copy shipped by scikit-learn): 64 inputs, the pixel counts 0…16
// divided by 16 so that they lie in [0, 1] (DigitsRaw keeps the counts), and
// 10 classes. Iris returns R. A. Fisher's 150 iris flowers: 4 measurements
// in cm and 3 classes of 50. README.md in the package directory records
// their sources and licences.
package data
