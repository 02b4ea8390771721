package command

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/curvkit/curvkit/approx"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
		msg  string // what the output must hold
	}{
		{name: "flags only", args: []string{"-n", "3"}, ok: true},
		{name: "no arguments", ok: true},
		{name: "positional", args: []string{"-n", "3", "extra"}, msg: `demo: unexpected arguments ["extra"]`},
		{name: "unknown flag", args: []string{"-m", "3"}, msg: "flag provided but not defined: -m"},
		{name: "bad value", args: []string{"-n", "x"}, msg: `invalid value "x" for flag -n`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			fs := flag.NewFlagSet("demo", flag.ContinueOnError)
			fs.SetOutput(&out)
			fs.Int("n", 1, "a number")
			if got := Parse(fs, tc.args); got != tc.ok {
				t.Fatalf("Parse = %v, want %v (output %q)", got, tc.ok, out.String())
			}
			if tc.ok {
				if out.Len() != 0 {
					t.Errorf("output %q, want none", out.String())
				}
				return
			}
			// Every refusal shows the usage, which names the flags.
			for _, want := range []string{tc.msg, "Usage of demo", "a number"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output %q lacks %q", out.String(), want)
				}
			}
		})
	}
}

// The table has the dense matrices first, then a row for each name, with
// the floats of its field of Memory and any note the name carries.
func TestPrintMemory(t *testing.T) {
	mem := approx.Memory{Dense: 128 << 10, Diagonal: 3, LayerBlocks: 5, NeuronBlocks: 7, KFAC: 11, EKFAC: 13, TONGA: 17}
	var out bytes.Buffer
	if err := PrintMemory(&out, mem, 2, "diagonal", "neuron_block_diagonal", "kronecker_optimal", "kfac (each of 2)", "tonga"); err != nil {
		t.Fatal(err)
	}
	// 128·1024 floats are 1 MiB, 3 floats 24 bytes; each cell is right
	// aligned in a column two wider than its widest cell.
	want := "" +
		"         memory before building  floats    bytes\n" +
		"  dense P² (each of 2 matrices)  131072  1.0 MiB\n" +
		"                       diagonal       3   24.0 B\n" +
		"          neuron_block_diagonal       7   56.0 B\n" +
		"              kronecker_optimal      11   88.0 B\n" +
		"               kfac (each of 2)      11   88.0 B\n" +
		"                          tonga      17  136.0 B\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("an unknown name did not panic")
		}
	}()
	PrintMemory(io.Discard, mem, 2, "lanczos")
}
