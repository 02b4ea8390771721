package enum

import "testing"

type color int

var colorNames = []string{"default", "red", "green"}

func TestName(t *testing.T) {
	for _, c := range []struct {
		v    color
		want string
	}{{0, "default"}, {2, "green"}, {3, "color(3)"}, {-1, "color(-1)"}} {
		if got := Name(c.v, colorNames, "color"); got != c.want {
			t.Errorf("Name(%d) = %q, want %q", int(c.v), got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name string
		from color
		want color
		ok   bool
	}{
		{"red", 0, 1, true},
		{"green", 1, 2, true},
		{"default", 0, 0, true},
		{"default", 1, 0, false}, // below from
		{"blue", 0, 0, false},
		{"", 0, 0, false},
	} {
		got, ok := Parse(c.name, colorNames, c.from)
		if got != c.want || ok != c.ok {
			t.Errorf("Parse(%q, from %d) = %d, %v, want %d, %v", c.name, int(c.from), int(got), ok, int(c.want), c.ok)
		}
	}
}
