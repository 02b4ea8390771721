// Package randmat draws the random test matrices the packages' tests share:
// orthogonal matrices and symmetric matrices with a prescribed spectrum.
package randmat
