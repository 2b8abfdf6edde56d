package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// runPhoneAttach runs `simlab phone …`.
func runPhoneAttach(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, append([]string{"phone"}, args...)...)
}

func TestPhoneAttachCLI(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	code, out, errb := runPhoneAttach(t, "attach", "--api", s.URL, "--list")
	if code != exitOK || !strings.Contains(out, "no readers attached") {
		t.Fatalf("attach --list: exit %d, %q %q", code, out, errb)
	}
	code, out, _ = runPhoneAttach(t, "attach", "--api", s.URL, "--list", "--json")
	var l apiclient.AttachmentList
	if err := json.Unmarshal([]byte(out), &l); code != exitOK || err != nil || l.Attached == nil || len(l.Attached) != 0 {
		t.Fatalf("attach --list --json: exit %d, %q (%v)", code, out, err)
	}
	// No such reader: whatever this machine has (no pcscd, pcscd without
	// the reader, a build without PC/SC), the API says why and we exit 1.
	code, _, errb = runPhoneAttach(t, "attach", "--api", s.URL, "--reader", "No Such Reader 00 00", "--msisdn", "+4930123456")
	if code != exitFailure || !(strings.Contains(errb, "no such reader") || strings.Contains(errb, "pcscd is not running") || strings.Contains(errb, "without PC/SC")) {
		t.Fatalf("attach to a missing reader: exit %d, stderr %q", code, errb)
	}
	code, _, errb = runPhoneAttach(t, "detach", "--api", s.URL, "+4930123456")
	if code != exitFailure || !strings.Contains(errb, "404") {
		t.Fatalf("detach of a number not attached: exit %d, stderr %q", code, errb)
	}
	for _, args := range [][]string{
		{"attach", "--api", s.URL, "--reader", "R"},
		{"attach", "--api", s.URL, "--reader", "R", "--msisdn", "not-a-number"},
		{"attach", "--api", s.URL, "--reader", "R", "--msisdn", "4930", "--answer", "dance"},
		{"detach", "--api", s.URL},
	} {
		if code, _, errb := runPhoneAttach(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want usage error", args, code, errb)
		}
	}
}
