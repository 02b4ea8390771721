//go:build race

package killtest

// raceEnabled is set when the race detector is on: its helper processes
// run several times slower, so Loop.Run makes fewer runs.
const raceEnabled = true
