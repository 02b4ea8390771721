package firstorder

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// The saved-state format; the package overview documents the layout.
// Version 1, read still, had no parameter groups.
const (
	stateMagic   = "CKFOSTAT"
	stateVersion = 2
)

// Save writes the state to w; see Optimizer.
func (s *state) Save(w io.Writer) error {
	return s.save(w, func(e *encoder) {
		e.groups(s.groups)
		e.bytes([]byte{byte(len(s.scalars))})
		e.floats(s.scalars)
		e.bytes([]byte{byte(len(s.bufs))})
		for _, b := range s.bufs {
			e.floats(b)
		}
	})
}

// Load reads a state written by Save; see Optimizer. It reads exactly the
// bytes Save wrote, so more data may follow in r.
func (s *state) Load(r io.Reader) error {
	return s.load(r, func(d *decoder, version uint32) func() error {
		var groups []Group
		if version >= 2 {
			groups = d.groups(s.n)
		}
		if k := d.byte(); d.err == nil && int(k) != len(s.scalars) {
			d.fail(fmt.Errorf("state has %d scalars, want %d", k, len(s.scalars)))
		}
		scalars := make([]float64, len(s.scalars))
		d.floats(scalars)
		if k := d.byte(); d.err == nil && int(k) != len(s.bufs) {
			d.fail(fmt.Errorf("state has %d buffers, want %d", k, len(s.bufs)))
		}
		var bufs [][]float64
		for range s.bufs {
			if d.err != nil {
				break
			}
			b := make([]float64, s.n)
			d.floats(b)
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
func (c *core) save(w io.Writer, body func(e *encoder)) error {
	if w == nil {
		return fmt.Errorf("firstorder: saving %s state: nil writer", c.kind)
	}
	e := encoder{w: bufio.NewWriter(w), crc: crc32.NewIEEE()}
	e.bytes([]byte(stateMagic))
	e.u32(stateVersion)
	e.bytes([]byte{byte(len(c.kind))})
	e.bytes([]byte(c.kind))
	e.u64(uint64(c.n))
	e.u64(uint64(c.steps))
	e.floats([]float64{c.lr})
	body(&e)
	e.u32(e.crc.Sum32())
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err != nil {
		return fmt.Errorf("firstorder: saving %s state: %w", c.kind, e.err)
	}
	return nil
}

// load reads a state that save wrote for c's kind and length. It reads the
// header, then lets read take the rest of the body into temporaries, checks
// the checksum, and only then calls the function read returned, which
// validates the values and installs them; the step count and learning rate
// are installed after it succeeds. On error nothing changes.
func (c *core) load(r io.Reader, read func(d *decoder, version uint32) (apply func() error)) error {
	if err := c.loadAll(r, read); err != nil {
		return fmt.Errorf("firstorder: loading %s state: %w", c.kind, err)
	}
	return nil
}

func (c *core) loadAll(r io.Reader, read func(d *decoder, version uint32) func() error) error {
	if r == nil {
		return errors.New("nil reader")
	}
	d := decoder{r: r, crc: crc32.NewIEEE()}
	if magic := d.bytes(len(stateMagic)); d.err == nil && string(magic) != stateMagic {
		return errors.New("not a firstorder state")
	}
	version := d.u32()
	if d.err == nil && version != 1 && version != stateVersion {
		return fmt.Errorf("format version %d, want 1 or %d", version, stateVersion)
	}
	if kind := string(d.bytes(int(d.byte()))); d.err == nil && kind != c.kind {
		return fmt.Errorf("state is of %q, want %q", kind, c.kind)
	}
	if n := d.u64(); d.err == nil && n != uint64(c.n) {
		return fmt.Errorf("state has %d parameters, want %d", n, c.n)
	}
	steps := d.u64()
	if d.err == nil && steps > math.MaxInt32 {
		return fmt.Errorf("step count %d is out of range", steps)
	}
	lr := d.float()
	if d.err == nil {
		if err := checkLR(c.kind, lr); err != nil {
			return err
		}
	}
	var apply func() error
	if d.err == nil {
		apply = read(&d, version)
	}
	sum := d.crc.Sum32()
	if got := d.u32(); d.err == nil && got != sum {
		return errors.New("checksum mismatch")
	}
	if d.err != nil {
		return d.err
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

// encoder writes little-endian values and keeps a CRC-32 of them; after the
// first error it does nothing.
type encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	err error
	buf [4096]byte
}

func (e *encoder) bytes(p []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(p)
	_, e.err = e.w.Write(p)
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.bytes(e.buf[:8])
}

// floats writes v in chunks of the encoder's buffer.
func (e *encoder) floats(v []float64) {
	for len(v) > 0 {
		k := min(len(v), len(e.buf)/8)
		for i, f := range v[:k] {
			binary.LittleEndian.PutUint64(e.buf[8*i:], math.Float64bits(f))
		}
		e.bytes(e.buf[:8*k])
		v = v[k:]
	}
}

// groups writes the parameter groups: their count, then for each its name,
// scales and spans.
func (e *encoder) groups(groups []Group) {
	e.u32(uint32(len(groups)))
	for _, g := range groups {
		e.bytes([]byte{byte(len(g.Name))})
		e.bytes([]byte(g.Name))
		e.floats([]float64{g.LRScale, g.WeightDecayScale})
		e.u32(uint32(len(g.Spans)))
		for _, sp := range g.Spans {
			e.u64(uint64(sp.Start))
			e.u64(uint64(sp.End))
		}
	}
}

// decoder reads what encoder writes, exactly and without reading ahead; after
// the first error it returns zeros.
type decoder struct {
	r   io.Reader
	crc hash.Hash32
	err error
	buf [4096]byte
}

// bytes returns the next k ≤ len(d.buf) bytes, valid until the next call.
func (d *decoder) bytes(k int) []byte {
	if d.err != nil {
		clear(d.buf[:k])
		return d.buf[:k:k]
	}
	p := d.buf[:k]
	if _, err := io.ReadFull(d.r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		clear(p)
		return p
	}
	d.crc.Write(p)
	return p
}

// fail records err as the decoder's error unless it has one.
func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) byte() byte     { return d.bytes(1)[0] }
func (d *decoder) u32() uint32    { return binary.LittleEndian.Uint32(d.bytes(4)) }
func (d *decoder) u64() uint64    { return binary.LittleEndian.Uint64(d.bytes(8)) }
func (d *decoder) float() float64 { return math.Float64frombits(d.u64()) }

// groups reads what encoder.groups writes for n parameters. Counts beyond n,
// which no valid set of groups has, are errors before anything is
// allocated; checkGroups checks the rest.
func (d *decoder) groups(n int) []Group {
	k := d.u32()
	if d.err == nil && uint64(k) > uint64(n) {
		d.fail(fmt.Errorf("state has %d parameter groups for %d parameters", k, n))
	}
	var groups []Group
	for i := 0; i < int(k) && d.err == nil; i++ {
		name := string(d.bytes(int(d.byte())))
		var scales [2]float64
		d.floats(scales[:])
		if d.err == nil && scales[0] == 0 {
			d.err = fmt.Errorf("group %d has learning-rate scale 0, which Save does not write", i)
		}
		m := d.u32()
		if d.err == nil && uint64(m) > uint64(n) {
			d.err = fmt.Errorf("group %d has %d spans for %d parameters", i, m, n)
		}
		g := Group{Name: name, LRScale: scales[0], WeightDecayScale: scales[1]}
		for j := 0; j < int(m) && d.err == nil; j++ {
			lo, hi := d.u64(), d.u64()
			if d.err == nil && (lo > uint64(n) || hi > uint64(n)) {
				d.err = fmt.Errorf("group %d: span [%d, %d) beyond %d parameters", i, lo, hi, n)
			}
			g.Spans = append(g.Spans, Span{int(lo), int(hi)})
		}
		groups = append(groups, g)
	}
	return groups
}

// floats fills dst, reading in chunks of the decoder's buffer.
func (d *decoder) floats(dst []float64) {
	for len(dst) > 0 {
		k := min(len(dst), len(d.buf)/8)
		p := d.bytes(8 * k)
		for i := range k {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		}
		dst = dst[k:]
	}
}
