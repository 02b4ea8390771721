// Package vec holds small vector routines that curvkit's hot loops share.
package vec
