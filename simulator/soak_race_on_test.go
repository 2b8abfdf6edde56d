//go:build race

package simulator_test

// soakRate is TestSoak's rate: the race detector multiplies a challenge's
// CPU several times over.
const soakRate = 150.0
