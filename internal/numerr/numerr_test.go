package numerr

import (
	"errors"
	"testing"
)

func TestFirst(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	for _, c := range []struct {
		name string
		errs []error
		want error
	}{
		{"none", nil, nil},
		{"all nil", []error{nil, nil}, nil},
		{"first", []error{a, b}, a},
		{"after nils", []error{nil, b, a}, b},
	} {
		if got := First(c.errs...); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
