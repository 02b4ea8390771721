package data

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameRecords reports the first record of got that differs from want's,
// values compared bit for bit.
func sameRecords(want, got []Record) (int, bool) {
	if len(want) != len(got) {
		return min(len(want), len(got)), false
	}
	for i := range want {
		w, g := want[i], got[i]
		if !sameFloat(w.Value, g.Value) {
			return i, false
		}
		w.Value, g.Value = 0, 0
		if w != g {
			return i, false
		}
	}
	return 0, true
}

func TestRecordsRoundTrip(t *testing.T) {
	recs := []Record{
		{0, "ggn", "kfac", "rel_frobenius", 0, 1.0 / 3},
		{1, "fisher", "ekfac", "rel_spectral", 0, 1e-300},
		{2, "hessian", "diag", "solve_cosine", 0, math.Copysign(0, -1)},
		{3, "ef", "tonga", "x", 0, math.NaN()},
		{4, "ef", "exact", "eigenvalue", 1, math.Inf(1)},
		{5, "ef", "exact", "eigenvalue", 2, math.Inf(-1)},
		{6, "a,b", `q"uote`, "smallest", 0, 5e-324},
		{-7, "", "", "largest", 12, math.MaxFloat64},
		{8, "ggn", "kfac", "pi", 0, math.Pi},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteRecords(&buf, recs))
	text := buf.String()
	got, err := ReadRecords(&buf)
	require.NoError(t, err)
	i, ok := sameRecords(recs, got)
	assert.True(t, ok, "record %d", i)

	lines := strings.Split(text, "\n")
	assert.Equal(t, "step,matrix,approximation,metric,index,value", lines[0])
	assert.Equal(t, "0,ggn,kfac,rel_frobenius,0,0.3333333333333333", lines[1])
	assert.Equal(t, "4,ef,exact,eigenvalue,1,+Inf", lines[5])
	assert.Equal(t, `6,"a,b","q""uote",smallest,0,5e-324`, lines[7])
	assert.Equal(t, "8,ggn,kfac,pi,0,3.141592653589793", lines[9])

	assert.Error(t, WriteRecords(&buf, []Record{{Step: 1, Metric: ""}}), "empty metric")
	assert.Error(t, WriteRecords(&buf, []Record{{Step: 1, Metric: "m", Index: -1}}), "negative index")
}

func TestReadRecordsErrors(t *testing.T) {
	head := "step,matrix,approximation,metric,index,value\n"
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "empty records file"},
		{"old header", "step,matrix,approximation,metric,value\n", "header"},
		{"short row", head + "1,ggn,kfac,m,0\n", "wrong number of fields"},
		{"bad step", head + "1.5,ggn,kfac,m,0,1\n", `line 2: step "1.5"`},
		{"bad index", head + "1,ggn,kfac,m,x,1\n", `line 2: index "x"`},
		{"negative index", head + "1,ggn,kfac,m,-1,1\n", `index "-1"`},
		{"bad value", head + "1,ggn,kfac,m,0,one\n", `value "one"`},
		{"hex value", head + "1,ggn,kfac,m,0,0x1p-2\n", "not a decimal number"},
		{"separator", head + "1,ggn,kfac,m,0,1_000\n", "not a decimal number"},
		{"empty metric", head + "1,ggn,kfac,,0,1\n", "line 2: empty metric"},
		{"bare quote", head + "1,g\"gn,kfac,m,0,1\n", "bare"},
	} {
		_, err := ReadRecords(strings.NewReader(c.text))
		if assert.Error(t, err, c.name) {
			assert.Contains(t, err.Error(), c.want, c.name)
		}
	}
	recs, err := ReadRecords(strings.NewReader(head))
	require.NoError(t, err)
	assert.Empty(t, recs)
}

// FuzzReadRecords: any input parses or is refused, and what parses
// survives a write and a second read unchanged.
func FuzzReadRecords(f *testing.F) {
	f.Add("step,matrix,approximation,metric,index,value\n0,ggn,kfac,rel_frobenius,0,0.25\n")
	f.Add("step,matrix,approximation,metric,index,value\n1,\"a,b\",x,m,3,NaN\n2,,,m,0,-Inf\n")
	f.Add("step,matrix,approximation,metric,index,value\r\n3,ggn,kfac,m,0,1e308\r\n")
	f.Add("")
	f.Add("a,b\n")
	f.Fuzz(func(t *testing.T, text string) {
		recs, err := ReadRecords(strings.NewReader(text))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteRecords(&buf, recs); err != nil {
			t.Fatalf("records that parsed do not write: %v", err)
		}
		again, err := ReadRecords(&buf)
		if err != nil {
			t.Fatalf("written records do not parse: %v", err)
		}
		if i, ok := sameRecords(recs, again); !ok {
			t.Fatalf("record %d changed on a second read", i)
		}
	})
}
