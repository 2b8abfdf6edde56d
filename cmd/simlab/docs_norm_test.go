package main

import "testing"

// TestDocsNorm: outputs compare as written but for what changes from run
// to run: times, dates, ports and durations keep their form, message ids
// their length; counts, statuses, SWs, phone numbers and hex values
// (keys, MACs, APDUs) must be equal; in a random-hex block hex values
// (and long decimal ones) are checked by length only.
func TestDocsNorm(t *testing.T) {
	for _, c := range []struct {
		want, got string
		random    bool
		match     bool
	}{
		{"message id 1882518328442901", "message id 1883933612441601", false, true},
		{"message id 1882518328442901", "message id 188393361244160", false, false}, // an id's length is checked
		{"latency 48.2 ms at 12:08:40.985", "latency 3.1 ms at 15:59:28.352", false, true},
		{"took 1.5s (250µs each)", "took 12.25s (3µs each)", false, true},
		{"at 12:08:40.985", "at 12:08:40", false, false}, // a time keeps its form
		{`"received":"2026-11-22T01:03:04.786959905Z"`, `"received":"2026-12-07T17:00:56.5804Z"`, false, true},
		{"http://127.0.0.1:42851/l/x", "http://127.0.0.1:39225/l/x", false, true},
		{"MAC ae733256918d050b", "MAC ae733256918d050b", false, true},
		{"MAC ae733256918d050b", "MAC ae733256918e050b", false, false}, // a broken key shows here
		{"R-APDU 027100001412534c41…", "R-APDU 027100001412534c41b772fbafc1ebd5aa3e", false, true},
		{"SW 9000 in 4F2A", "SW 9000 in 4F2A", false, true},
		{"SW 9000 in 4F2A", "SW 6119 in 4F2A", false, false}, // short and digit-only tokens are compared
		{"SW 9000 in 4F2A", "SW 9000 in 4F2B", false, false},
		{"message reference(s) 2", "message reference(s) 1", false, false},
		{"to +99901000042", "to +99901000043", false, false}, // phone numbers too
		{"exit 1", "exit 0", false, false},
		{"transaction id 8556000988358666", "transaction id 3c05723863eed771", true, true},
		{"transaction id 3d706add964a5d76", "transaction id 3c05723863eed7", true, false}, // length checked
		{"transaction id 3d706add964a5d76", "transaction id 3c05723863eed77z", true, false},
		{"code is 526567", "code is 256156", true, true}, // an OTP in a random-hex block
		{"code is 526567", "code is 25615", true, false},
	} {
		_, ok := matchOutput([][]string{{c.want}}, c.got, false, c.random)
		if ok != c.match {
			t.Errorf("%q against %q (random-hex %v): match %v, want %v", c.want, c.got, c.random, ok, c.match)
		}
	}
}
