// Package data holds data sets for training and testing: a Set type of
// input and target matrices, a CSV reader and writer, a seeded mini-batch
// iterator, one-hot encoding and standardisation, and two small embedded
// real data sets (Digits and Iris).
package data
