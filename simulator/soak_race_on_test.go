//go:build race

package simulator_test

// soakRace: TestSoak does not run under the race detector, which makes
// every challenge several times dearer (and CI runs the whole suite in
// parallel beside it): `make test` runs it on its own, without -race.
const soakRace = true
