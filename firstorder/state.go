package firstorder

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/curvkit/curvkit/internal/binstate"
)

// The saved-state format; the package overview documents the layout.
const (
	stateMagic   = "CKFOSTAT"
	stateVersion = 1
)

// Save writes the state to w; see Optimizer.
func (s *state) Save(w io.Writer) error {
	if w == nil {
		return fmt.Errorf("firstorder: saving %s state: nil writer", s.kind)
	}
	e := binstate.NewEncoder(w)
	e.Header(stateMagic, stateVersion, s.kind)
	e.U64(uint64(s.n))
	e.U64(uint64(s.steps))
	e.Float(s.lr)
	e.Bytes([]byte{byte(len(s.scalars))})
	e.Floats(s.scalars)
	e.Bytes([]byte{byte(len(s.bufs))})
	for _, b := range s.bufs {
		e.Floats(b)
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("firstorder: saving %s state: %w", s.kind, err)
	}
	return nil
}

// Load reads a state written by Save; see Optimizer. It reads exactly the
// bytes Save wrote, so more data may follow in r.
func (s *state) Load(r io.Reader) error {
	if err := s.load(r); err != nil {
		return fmt.Errorf("firstorder: loading %s state: %w", s.kind, err)
	}
	return nil
}

func (s *state) load(r io.Reader) error {
	if r == nil {
		return errors.New("nil reader")
	}
	d := binstate.NewDecoder(r)
	if err := d.Header(stateMagic, stateVersion, s.kind, "a firstorder state"); err != nil {
		return err
	}
	if n := d.U64(); d.Err() == nil && n != uint64(s.n) {
		return fmt.Errorf("state has %d parameters, want %d", n, s.n)
	}
	steps := d.U64()
	if d.Err() == nil && steps > math.MaxInt32 {
		return fmt.Errorf("step count %d is out of range", steps)
	}
	lr := d.Float()
	if d.Err() == nil {
		if err := checkLR(s.kind, lr); err != nil {
			return err
		}
	}
	if k := d.Byte(); d.Err() == nil && int(k) != len(s.scalars) {
		return fmt.Errorf("state has %d scalars, want %d", k, len(s.scalars))
	}
	scalars := make([]float64, len(s.scalars))
	d.Floats(scalars)
	if k := d.Byte(); d.Err() == nil && int(k) != len(s.bufs) {
		return fmt.Errorf("state has %d buffers, want %d", k, len(s.bufs))
	}
	var bufs [][]float64
	for range s.bufs {
		if d.Err() != nil {
			break
		}
		b := make([]float64, s.n)
		d.Floats(b)
		bufs = append(bufs, b)
	}
	if err := d.Close(); err != nil {
		return err
	}
	// A valid checksum says the bytes are Save's, not that they make sense:
	// a NaN or a negative second moment would reach θ on the next step.
	for i, v := range scalars {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("scalar %d is %v, want a value in [0, 1]", i, v)
		}
	}
	for i, b := range bufs {
		if err := checkBuffer(b, s.bufKinds[i]); err != nil {
			return fmt.Errorf("buffer %d: %w", i, err)
		}
	}

	s.steps = int(steps)
	s.lr = lr
	copy(s.scalars, scalars)
	for i, b := range bufs {
		copy(s.bufs[i], b)
	}
	return nil
}

// checkBuffer reports a value that no sequence of finite gradients leads to
// and that would make the next step write NaN: a NaN, an infinite first
// moment, or a negative sum or average of squares. An average of squares
// may be +Inf (a gradient whose square overflowed); the step divides by it
// and leaves that coordinate alone.
func checkBuffer(b []float64, kind bufKind) error {
	for j, v := range b {
		switch {
		case math.IsNaN(v):
			return fmt.Errorf("element %d is NaN", j)
		case kind == square && v < 0:
			return fmt.Errorf("element %d is %v, want a value ≥ 0 (it holds squares)", j, v)
		case kind == signed && math.IsInf(v, 0):
			return fmt.Errorf("element %d is %v, want a finite value", j, v)
		}
	}
	return nil
}
