package progress

import (
	"bytes"
	"os"
	"testing"
)

// TestQuietOffTerminal: a bar on a buffer or a regular file writes nothing.
func TestQuietOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "work")
	for i := range 11 {
		b.Report(i, 10)
	}
	b.Finish()
	if buf.Len() != 0 {
		t.Fatalf("wrote %q to a buffer", buf.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "bar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Terminal(f) {
		t.Fatal("a regular file reported as a terminal")
	}
	New(f, "work").Report(1, 2)
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatalf("wrote %d bytes to a file", st.Size())
	}
}

// TestDraws: on a terminal (here a buffer standing in for one) the bar
// shows the count, and a new total starts a new bar.
func TestDraws(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "work"}
	b.Report(5, 10)
	if !bytes.Contains(buf.Bytes(), []byte("5/10")) {
		t.Fatalf("no 5/10 in %q", buf.String())
	}
	b.Report(2, 3)
	if !bytes.Contains(buf.Bytes(), []byte("2/3")) {
		t.Fatalf("no 2/3 in %q", buf.String())
	}
	b.Finish()
	if b.bar != nil {
		t.Fatal("bar kept after Finish")
	}
}
