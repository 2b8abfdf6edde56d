package main

import "testing"

// TestDocsNorm: outputs compare with ids, times and ports masked, hex
// values (keys, MACs, APDUs) as written, and in a random-hex block hex
// values by length only.
func TestDocsNorm(t *testing.T) {
	for _, c := range []struct {
		want, got string
		random    bool
		match     bool
	}{
		{"message id 1882518328442901", "message id 1883933612441601", false, true},
		{"latency 48.2 ms at 12:08:40.985", "latency 3.1 ms at 15:59:28.352", false, true},
		{"MAC ae733256918d050b", "MAC ae733256918d050b", false, true},
		{"MAC ae733256918d050b", "MAC ae733256918e050b", false, false}, // a broken key shows here
		{"R-APDU 027100001412534c41…", "R-APDU 027100001412534c41b772fbafc1ebd5aa3e", false, true},
		{"SW 9000 in 4F2A", "SW 6119 in 4F2B", false, true}, // short tokens stay masked
		{"transaction id 8556000988358666", "transaction id 3c05723863eed771", true, true},
		{"transaction id 3d706add964a5d76", "transaction id 3c05723863eed7", true, false}, // length checked
		{"transaction id 3d706add964a5d76", "transaction id 3c05723863eed77z", true, false},
	} {
		_, ok := matchOutput([][]string{{c.want}}, c.got, false, c.random)
		if ok != c.match {
			t.Errorf("%q against %q (random-hex %v): match %v, want %v", c.want, c.got, c.random, ok, c.match)
		}
	}
}
