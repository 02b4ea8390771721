//go:build race

package main

// raceEnabled is set under the race detector, which slows the child
// processes of TestKilledRuns tenfold; the code they run is raced in
// TestRun.
const raceEnabled = true
