//go:build !race

package main

const rssScale = 1
