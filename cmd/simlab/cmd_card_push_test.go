package main

import (
	"strings"
	"testing"
)

// TestCardPushUsage checks the command line; the challenge itself runs
// through pcscd in simulator/pcsc (TestCardPushCLIAcceptance).
func TestCardPushUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"card", "push", "--loa", "3"},
		{"card", "push", "--reader", "R", "--loa", "4"},
		{"card", "push", "--reader", "R"},
		{"card", "push", "--reader", "R", "--loa", "3", "--answer", "dance"},
		{"card", "push", "--reader", "R", "--loa", "3", "--msisdn", "not a number"},
	} {
		if code, _, errb := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errb)
		}
	}
	code, _, errb := runCLI(t, "card", "push", "--reader", "No Such Reader 00 00", "--loa", "3", "--answer", "approve", "--json")
	if code != exitFailure || !(strings.Contains(errb, "no such reader") || strings.Contains(errb, "pcscd is not running") || strings.Contains(errb, "without PC/SC")) {
		t.Fatalf("missing reader: exit %d, stderr %q", code, errb)
	}
}
