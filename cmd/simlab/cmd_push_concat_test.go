package main

import (
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestPushURLLongText: `simlab push --url` with a client name and binding
// message long enough that the SMS and its link span two parts (issue
// #17 item 4) ends approved: the phone joins the parts before the person
// sees the link, and its inbox shows the text once, with its parts count.
func TestPushURLLongText(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := "+" + simtest.Number(t, "approve", 9411)
	name := "Example Bank of the Very Long Name Incorporated"
	binding := "Login to your account from a new device in Berlin, Germany at 11:10"
	m := pushJSON(t, "--smpp", s.SMPPAddr, "--to", n, "--url", "--client-name", name, "--binding-message", binding, "--timeout", "10s")
	if m["outcome"] != "approved" || acrOf(m) != "2" || m["mode"] != "url" {
		t.Fatalf("--url with a two-part text: %v", m)
	}
	code, out, errb := runCLI(t, "phone", "inbox", n, "--api", s.URL)
	want := name + ": " + binding + " http://127.0.0.1:"
	if code != exitOK || strings.Count(out, want) != 1 || !strings.Contains(out, "[link opened]  [2 parts]") || !strings.Contains(out, "1 message(s)") {
		t.Errorf("phone inbox: exit %d %s\n%s", code, errb, out)
	}
}
