// Package enum names the values of the small integer enumerations of the
// public packages from one table of names each, so that a type's String and
// its Parse function agree by construction.
package enum

import "fmt"

// Name returns names[v], or typ(v) for a v outside names, as fmt prints
// an unknown value of a named integer type.
func Name[T ~int](v T, names []string, typ string) string {
	if v < 0 || int(v) >= len(names) {
		return fmt.Sprintf("%s(%d)", typ, int(v))
	}
	return names[v]
}

// Parse returns the value v ≥ from with names[v] = name, and whether there
// is one. from leaves out values a user does not name, such as a default.
func Parse[T ~int](name string, names []string, from T) (T, bool) {
	for v := int(from); v < len(names); v++ {
		if names[v] == name {
			return T(v), true
		}
	}
	return 0, false
}
