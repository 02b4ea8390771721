//go:build !amd64 || purego

package vmath

import "testing"

// forEachKernel runs f on the one implementation there is.
func forEachKernel(t *testing.T, f func(t *testing.T)) { t.Run("Go", f) }

// benchEachKernel is forEachKernel for a benchmark.
func benchEachKernel(b *testing.B, f func(b *testing.B)) { b.Run("Go", f) }
