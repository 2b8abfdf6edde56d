//go:build race

package fleet_test

// raceEnabled: the race detector makes the memory test meaningless (its
// shadow memory) and slow.
const raceEnabled = true
