//go:build !race

package simulator_test

const soakRace = false
