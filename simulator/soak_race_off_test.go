//go:build !race

package simulator_test

// soakRate is TestSoak's rate.
const soakRate = 300.0
