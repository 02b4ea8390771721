// Package tune is the harness of the benchmark commands (examples/kfacbench,
// examples/mnistae): it trains optimizers on one problem from the same
// parameters and the same batches, times their steps, tunes first-order
// baselines over a learning-rate grid, and reports which reaches a target
// training loss first, in steps and in optimizer seconds.
//
// A Bench holds the problem and the budget. Run runs one optimizer,
// evaluating the training (and, for a final run, held-out) loss every
// EvalEvery steps; its clock counts the optimizer's Step calls only, not
// the evaluations. Tune runs a grid of learning rates two at a time and
// keeps the one with the lowest training loss reached; BestBaseline turns
// the tuned baselines into the target. PrintTuning, PrintTable, Files and
// Write give the table, runs.csv and the two loss plots, written as one set
// through data.WriteFiles.
package tune
