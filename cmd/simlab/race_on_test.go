//go:build race

package main

// rssScale multiplies the RSS bounds of the tests that run this binary as
// `simlab serve`: the race detector's shadow memory inflates RSS.
const rssScale = 4
