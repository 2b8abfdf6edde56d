//go:build race

package smsc

// raceEnabled: the race detector skews heap figures.
const raceEnabled = true
