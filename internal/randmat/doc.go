// Package randmat draws the random test matrices the packages' tests share:
// orthogonal matrices and symmetric matrices with a prescribed spectrum;
// and it builds the shifted copies M + λI their dense references use.
package randmat
