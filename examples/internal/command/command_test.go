package command

import (
	"bytes"
	"flag"
	"strings"
	"testing"
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

func TestPrintMemory(t *testing.T) {
	var out bytes.Buffer
	err := PrintMemory(&out, []Memory{
		{Name: "diagonal", Floats: 3},
		{Name: "kfac", Floats: 128 << 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	// 3 floats are 24 bytes, 128·1024 floats 1 MiB; each cell is right
	// aligned in a column two wider than its widest cell.
	want := "" +
		"  memory before building  floats    bytes\n" +
		"                diagonal       3   24.0 B\n" +
		"                    kfac  131072  1.0 MiB\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
