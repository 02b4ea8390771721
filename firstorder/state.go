package firstorder

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/curvkit/curvkit/internal/binstate"
)

// The saved-state format; the package overview documents the layout.
// Version 1, read still, had no parameter groups.
const (
	stateMagic   = "CKFOSTAT"
	stateVersion = 2
)

// Save writes the state to w; see Optimizer.
func (s *state) Save(w io.Writer) error {
	return s.save(w, func(e *binstate.Encoder) {
		writeGroups(e, s.groups)
		e.Bytes([]byte{byte(len(s.scalars))})
		e.Floats(s.scalars)
		e.Bytes([]byte{byte(len(s.bufs))})
		for _, b := range s.bufs {
			e.Floats(b)
		}
	})
}

// Load reads a state written by Save; see Optimizer. It reads exactly the
// bytes Save wrote, so more data may follow in r.
func (s *state) Load(r io.Reader) error {
	return s.load(r, func(d *binstate.Decoder, version uint32) func() error {
		var groups []Group
		if version >= 2 {
			groups = readGroups(d, s.n)
		}
		if k := d.Byte(); d.Err() == nil && int(k) != len(s.scalars) {
			d.Fail(fmt.Errorf("state has %d scalars, want %d", k, len(s.scalars)))
		}
		scalars := make([]float64, len(s.scalars))
		d.Floats(scalars)
		if k := d.Byte(); d.Err() == nil && int(k) != len(s.bufs) {
			d.Fail(fmt.Errorf("state has %d buffers, want %d", k, len(s.bufs)))
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
		return func() error {
			groups, runs, err := checkGroups(s.n, groups)
			if err != nil {
				return err
			}
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
			s.groups, s.runs = groups, runs
			copy(s.scalars, scalars)
			for i, b := range bufs {
				copy(s.bufs[i], b)
			}
			return nil
		}
	})
}

// save writes a state of c's kind to w: the header every saved state
// starts with (magic, version, kind, n, step count, learning rate), then what
// body writes, then the checksum of it all.
func (c *core) save(w io.Writer, body func(e *binstate.Encoder)) error {
	if w == nil {
		return fmt.Errorf("firstorder: saving %s state: nil writer", c.kind)
	}
	e := binstate.NewEncoder(w)
	e.Header(stateMagic, stateVersion, c.kind)
	e.U64(uint64(c.n))
	e.U64(uint64(c.steps))
	e.Float(c.lr)
	body(e)
	if err := e.Close(); err != nil {
		return fmt.Errorf("firstorder: saving %s state: %w", c.kind, err)
	}
	return nil
}

// load reads a state that save wrote for c's kind and length. It reads the
// header, then lets read take the rest of the body into temporaries, checks
// the checksum, and only then calls the function read returned, which
// validates the values and installs them; the step count and learning rate
// are installed after it succeeds. On error nothing changes.
func (c *core) load(r io.Reader, read func(d *binstate.Decoder, version uint32) (apply func() error)) error {
	if err := c.loadAll(r, read); err != nil {
		return fmt.Errorf("firstorder: loading %s state: %w", c.kind, err)
	}
	return nil
}

func (c *core) loadAll(r io.Reader, read func(d *binstate.Decoder, version uint32) func() error) error {
	if r == nil {
		return errors.New("nil reader")
	}
	d := binstate.NewDecoder(r)
	version, err := d.HeaderSince(stateMagic, 1, stateVersion, c.kind, "a firstorder state")
	if err != nil {
		return err
	}
	if n := d.U64(); d.Err() == nil && n != uint64(c.n) {
		return fmt.Errorf("state has %d parameters, want %d", n, c.n)
	}
	steps := d.U64()
	if d.Err() == nil && steps > math.MaxInt32 {
		return fmt.Errorf("step count %d is out of range", steps)
	}
	lr := d.Float()
	if d.Err() == nil {
		if err := checkLR(c.kind, lr); err != nil {
			return err
		}
	}
	var apply func() error
	if d.Err() == nil {
		apply = read(d, version)
	}
	if err := d.Close(); err != nil {
		return err
	}
	// A valid checksum says the bytes are Save's, not that they make sense:
	// a NaN or a negative second moment would reach θ on the next step.
	if err := apply(); err != nil {
		return err
	}
	c.steps = int(steps)
	c.lr = lr
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

// writeGroups writes the parameter groups: their count, then for each its
// name, scales and spans.
func writeGroups(e *binstate.Encoder, groups []Group) {
	e.U32(uint32(len(groups)))
	for _, g := range groups {
		e.String(g.Name)
		e.Floats([]float64{g.LRScale, g.WeightDecayScale})
		e.U32(uint32(len(g.Spans)))
		for _, sp := range g.Spans {
			e.U64(uint64(sp.Start))
			e.U64(uint64(sp.End))
		}
	}
}

// readGroups reads what writeGroups writes for n parameters. Counts beyond
// n, which no valid set of groups has, are errors before anything is
// allocated; checkGroups checks the rest.
func readGroups(d *binstate.Decoder, n int) []Group {
	k := d.U32()
	if d.Err() == nil && uint64(k) > uint64(n) {
		d.Fail(fmt.Errorf("state has %d parameter groups for %d parameters", k, n))
	}
	var groups []Group
	for i := 0; i < int(k) && d.Err() == nil; i++ {
		name := d.String()
		var scales [2]float64
		d.Floats(scales[:])
		if d.Err() == nil && scales[0] == 0 {
			d.Fail(fmt.Errorf("group %d has learning-rate scale 0, which Save does not write", i))
		}
		m := d.U32()
		if d.Err() == nil && uint64(m) > uint64(n) {
			d.Fail(fmt.Errorf("group %d has %d spans for %d parameters", i, m, n))
		}
		g := Group{Name: name, LRScale: scales[0], WeightDecayScale: scales[1]}
		for j := 0; j < int(m) && d.Err() == nil; j++ {
			lo, hi := d.U64(), d.U64()
			if d.Err() == nil && (lo > uint64(n) || hi > uint64(n)) {
				d.Fail(fmt.Errorf("group %d: span [%d, %d) beyond %d parameters", i, lo, hi, n))
			}
			g.Spans = append(g.Spans, Span{int(lo), int(hi)})
		}
		groups = append(groups, g)
	}
	return groups
}
