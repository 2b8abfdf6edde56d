//go:build !race

package smsc

const raceEnabled = false
