package main

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// phoneJSON runs a phone subcommand with --json and decodes the phone.
func phoneJSON(t *testing.T, args ...string) apiclient.Phone {
	t.Helper()
	code, out, errb := runCLI(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errb)
	}
	var in apiclient.Phone
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
	}
	return in
}

// TestPhoneSetAlwaysAndNext: --answer is "always", --next "next time,
// then as before", --next with --answer "next time, then always"
// (docs/api.md, "Answers"); get says so in the same words.
func TestPhoneSetAlwaysAndNext(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := "+" + simtest.Number(t, "approve", 7002)
	in := phoneJSON(t, "phone", "set", "--api", s.URL, n, "--answer", "cancel")
	if len(in.Behaviour.Steps) != 0 || in.Behaviour.Then.Answer != "cancel" || !in.Behaviour.OpenURLs {
		t.Errorf("--answer cancel: %+v", in.Behaviour)
	}
	in = phoneJSON(t, "phone", "set", "--api", s.URL, n, "--next", "wrong-pin,busy")
	if len(in.Behaviour.Steps) != 2 || in.Behaviour.Steps[1].Answer != "busy" || in.Behaviour.Then.Answer != "cancel" || !in.Behaviour.OpenURLs {
		t.Errorf("--next after --answer cancel: %+v", in.Behaviour)
	}
	code, out, errb := runCLI(t, "phone", "get", "--api", s.URL, n)
	if code != exitOK || !strings.Contains(out, "next wrong-pin, busy, then always cancel") {
		t.Errorf("get: exit %d %s\n%s", code, errb, out)
	}
	in = phoneJSON(t, "phone", "set", "--api", s.URL, n, "--next", "wrong-pin", "--answer", "approve")
	if len(in.Behaviour.Steps) != 1 || in.Behaviour.Then.Answer != "approve" {
		t.Errorf("--next wrong-pin --answer approve: %+v", in.Behaviour)
	}
	if code, _, errb := runCLI(t, "phone", "set", "--api", s.URL, n, "--next", "dance"); code != exitUsage {
		t.Errorf("--next dance: exit %d %s", code, errb)
	}
}

func TestPhoneSetGetListReset(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := "+" + simtest.Number(t, "approve", 7001)

	in := phoneJSON(t, "phone", "set", "--api", s.URL, n, "--answer", "wrong-pin,wrong-pin,approve", "--pin", "24680", "--delay", "250ms", "--open-urls=false")
	if len(in.Behaviour.Steps) != 2 || in.Behaviour.Steps[0].Answer != "wrong-pin" || in.Behaviour.Then.Answer != "approve" || !in.Scripted || in.Behaviour.OpenURLs {
		t.Errorf("behaviour after set: %+v scripted=%v", in.Behaviour, in.Scripted)
	}
	if time.Duration(in.Behaviour.Then.Delay) != 250*time.Millisecond {
		t.Errorf("delay %v, want 250ms", in.Behaviour.Then.Delay)
	}
	// The card really holds the new PIN: the phone's own view says so only
	// through behaviour, so check the fleet directly.
	if st := s.Phone(t, n).Info().PIN; !st.Supported || st.TriesLeft != 3 {
		t.Errorf("PIN state %+v", st)
	}

	// The former list form still works, with a warning saying what it means.
	code, _, errb := runCLI(t, "phone", "set", "--api", s.URL, n, "--answer", "wrong-pin,approve")
	if code != exitOK || !strings.Contains(errb, "--next wrong-pin --answer approve") {
		t.Errorf("--answer with a list: exit %d, warning %q", code, errb)
	}

	in = phoneJSON(t, "phone", "set", "--api", s.URL, n, "--delay", "2s")
	if len(in.Behaviour.Steps) != 0 || in.Behaviour.Then.Answer != "approve" || time.Duration(in.Behaviour.Then.Delay) != 2*time.Second || !in.Behaviour.OpenURLs {
		t.Errorf("--delay alone: %+v", in.Behaviour)
	}

	in = phoneJSON(t, "phone", "set", "--api", s.URL, n, "--absent", "--no-pin-support")
	if !in.Settings.Absent || !in.Settings.NoPINSupport || in.PIN.Supported {
		t.Errorf("settings after --absent --no-pin-support: %+v pin %+v", in.Settings, in.PIN)
	}
	in = phoneJSON(t, "phone", "set", "--api", s.URL, n, "--absent=false")
	if in.Settings.Absent || !in.Settings.NoPINSupport {
		t.Errorf("settings after --absent=false: %+v", in.Settings)
	}

	code, out, errb := runCLI(t, "phone", "get", "--api", s.URL, n)
	if code != exitOK {
		t.Fatalf("get: exit %d: %s", code, errb)
	}
	for _, want := range []string{"msisdn", n, "magic", "approve", "pin", "not supported", "switched on", "yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("get output lacks %q:\n%s", want, out)
		}
	}

	phoneJSON(t, "phone", "get", "--api", s.URL, "+"+simtest.Number(t, "busy", 7001))
	code, out, errb = runCLI(t, "phone", "list", "--api", s.URL)
	if code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errb)
	}
	if !strings.Contains(out, "MSISDN") || !strings.Contains(out, n) || !strings.Contains(out, "busy") || !strings.Contains(out, "2 phone(s)") {
		t.Errorf("list output:\n%s", out)
	}
	code, out, _ = runCLI(t, "phone", "list", "--api", s.URL, "--json")
	var l struct {
		Count int `json:"count"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &l) != nil || l.Count != 2 {
		t.Errorf("list --json: exit %d count %d:\n%s", code, l.Count, out)
	}

	in = phoneJSON(t, "phone", "reset", "--api", s.URL, n)
	if in.Scripted || in.Settings.NoPINSupport || !in.PIN.Supported || in.Behaviour.Then.Answer != "approve" {
		t.Errorf("after reset: %+v", in)
	}
}

func TestPhoneUsageAndAPIErrors(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := simtest.Number(t, "approve", 7002)
	for _, args := range [][]string{
		{"phone", "set", "--api", s.URL, n},                                       // nothing to set
		{"phone", "set", "--api", s.URL, n, "--answer", "dance"},                  // unknown answer
		{"phone", "set", "--api", s.URL, n, "--answer", "approve", "--pin", "12"}, // short PIN
		{"phone", "set", "--api", s.URL, n, "--delay", "-1s"},                     // negative delay
		{"phone", "set", "--api", s.URL, "not-a-number", "--answer", "approve"},
		{"phone", "set", "--api", "ftp://x", n, "--answer", "approve"},
		{"phone", "get", "--api", s.URL},
		{"phone", "list", "--api", s.URL, "extra"},
	} {
		if code, _, errb := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errb)
		}
	}
	// A number outside the plan is the API's 404: a failure, not usage.
	code, _, errb := runCLI(t, "phone", "get", "--api", s.URL, "+4915112345678")
	if code != exitFailure || !strings.Contains(errb, "404") {
		t.Errorf("get outside the plan: exit %d, stderr %q", code, errb)
	}
}

// TestPhoneToken checks the bearer token from $SIMLAB_API_TOKEN (not
// parallel: it sets the environment).
func TestPhoneToken(t *testing.T) {
	s := simtest.NewServer(t, func(c *simulator.Config) { c.APIToken = "s3cret-token" })
	n := simtest.Number(t, "approve", 7003)
	t.Setenv(apiTokenEnv, "")
	code, _, errb := runCLI(t, "phone", "get", "--api", s.URL, n)
	if code != exitFailure || !strings.Contains(errb, "401") || !strings.Contains(errb, apiTokenEnv) {
		t.Errorf("without token: exit %d, stderr %q", code, errb)
	}
	t.Setenv(apiTokenEnv, "s3cret-token")
	if in := phoneJSON(t, "phone", "set", "--api", s.URL, n, "--answer", "cancel"); in.Behaviour.Then.Answer != "cancel" {
		t.Errorf("with token: %+v", in.Behaviour)
	}
	// A wrong token is refused without the token appearing in the error.
	t.Setenv(apiTokenEnv, "s3cret-wrong")
	code, out, errb := runCLI(t, "phone", "get", "--api", s.URL, n)
	if code != exitFailure || !strings.Contains(errb, "401") {
		t.Errorf("wrong token: exit %d, stderr %q", code, errb)
	}
	if strings.Contains(errb+out, "s3cret") {
		t.Errorf("the token leaked into the output: %s%s", out, errb)
	}
}

// TestPhoneJSONIsTheAPIs: --json prints what the API answered, field for
// field, though the CLI decodes it into the client's types and back.
func TestPhoneJSONIsTheAPIs(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := simtest.Number(t, "approve", 7004)
	if code, _, errb := runCLI(t, "phone", "set", "--api", s.URL, n, "--answer", "wrong-pin,approve", "--delay", "10ms"); code != exitOK {
		t.Fatalf("set: exit %d: %s", code, errb)
	}
	for _, c := range []struct {
		args []string
		path string
	}{
		{[]string{"get", n}, "/api/v1/phones/" + n},
		{[]string{"events", n}, "/api/v1/phones/" + n + "/events"},
		{[]string{"inbox", n}, "/api/v1/phones/" + n + "/inbox"},
		{[]string{"list"}, "/api/v1/phones"},
		{[]string{"attach", "--list"}, "/api/v1/attached"},
	} {
		code, out, errb := runCLI(t, append(append([]string{"phone"}, c.args...), "--api", s.URL, "--json")...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, errb)
		}
		resp, err := http.Get(s.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		var fromCLI, fromAPI any
		err = json.NewDecoder(resp.Body).Decode(&fromAPI)
		resp.Body.Close()
		if err != nil || json.Unmarshal([]byte(out), &fromCLI) != nil {
			t.Fatalf("%v: not JSON: %v\n%s", c.args, err, out)
		}
		if !reflect.DeepEqual(fromCLI, fromAPI) {
			t.Errorf("%v --json:\n%s\nthe API:\n%v", c.args, out, fromAPI)
		}
	}
}

// TestPhoneSend: `simlab phone send` makes a phone text an ESME; the MO is
// in the capture store from that phone. A missing --to is a usage error.
func TestPhoneSend(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := "+" + simtest.Number(t, "approve", 7003)
	code, out, errb := runCLI(t, "phone", "send", "--api", s.URL, n, "--to", "12345", "--text", "YES")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	id := strings.TrimSpace(out)
	m, err := s.SMSC().Store.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("message %q: %v", id, err)
	}
	if text, _ := m.Text(); text != "YES" || m.Source.Addr != n[1:] || m.Dest.Addr != "12345" || m.Direction.String() != "MO" {
		t.Fatalf("message %+v", m)
	}
	if code, _, _ := runCLI(t, "phone", "send", "--api", s.URL, n, "--text", "YES"); code != exitUsage {
		t.Fatalf("no --to: exit %d", code)
	}
	// simtest does the same in Go.
	if ids := s.SendSMS(t, n, "12345", "NO"); len(ids) != 1 {
		t.Fatalf("simtest ids %v", ids)
	}
	// A person on the web page answers this phone from now on.
	if in := phoneJSON(t, "phone", "set", "--api", s.URL, n, "--answer", "human"); in.Behaviour.Then.Answer != "human" {
		t.Fatalf("--answer human: %+v", in.Behaviour)
	}
}

// TestPhoneSetHelpListsEveryAnswer: `phone set --help` has one line for
// each answer the person package takes, and each line's answer is taken
// by `phone set` as written there.
func TestPhoneSetHelpListsEveryAnswer(t *testing.T) {
	t.Parallel()
	code, help, errb := runCLI(t, "phone", "set", "--help")
	if code != exitOK {
		t.Fatalf("--help: exit %d %s", code, errb)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(help, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && !strings.HasPrefix(f[0], "-") && !strings.HasPrefix(f[0], "simlab") {
			listed[f[0]] = true
		}
	}
	s := simtest.NewServer(t)
	n := "+" + simtest.Number(t, "approve", 7003)
	for _, a := range []string{person.AnswerApprove, person.AnswerCancel, person.AnswerIgnore, person.AnswerWrongPIN, person.AnswerPIN, person.AnswerBusy, person.AnswerBack, person.AnswerHuman} {
		word := a
		if a == person.AnswerPIN {
			word = "pin=DIGITS"
		}
		if !listed[word] {
			t.Errorf("phone set --help has no line for the answer %s; lines starting with a word: %v", word, listed)
			continue
		}
		in := phoneJSON(t, "phone", "set", "--api", s.URL, n, "--answer", strings.ReplaceAll(word, "DIGITS", "13579"))
		if in.Behaviour.Then.Answer != a {
			t.Errorf("--answer %s: then %+v", word, in.Behaviour.Then)
		}
	}
	if code, _, errb := runCLI(t, "phone", "set", "--api", s.URL, n, "--next", "pin"); code != exitUsage || !strings.Contains(errb, "pin=DIGITS") {
		t.Errorf("--next pin: exit %d %q, want usage naming pin=DIGITS", code, errb)
	}
}

// TestPhoneEventsDroppedTrace: a session whose APDU trace the server no
// longer keeps (trace: {apdu_sessions: 1}: only the latest) says so under
// --apdus, naming the setting, instead of showing nothing; the latest
// session still shows its APDUs.
func TestPhoneEventsDroppedTrace(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t, func(c *simulator.Config) { c.Trace.APDUSessions = 1 })
	ns := s.NS(t)
	n := ns.Number("approve")
	p := ns.Pusher()
	ctx, cancel := context.WithTimeout(context.Background(), simtest.DefaultWait)
	defer cancel()
	for i := 1; i <= 2; i++ {
		if res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA2}); err != nil || res.Outcome != "approved" {
			t.Fatalf("push %d: %+v %v", i, res, err)
		}
		ns.WaitSessions(ctx, n, i)
	}
	code, out, errb := runCLI(t, "phone", "events", "+"+n, "--api", s.URL, "--apdus")
	if code != exitOK {
		t.Fatalf("events: exit %d %s", code, errb)
	}
	_, after, ok := strings.Cut(out, "SMS-PP download session ended")
	if !ok {
		t.Fatalf("no session event:\n%s", out)
	}
	// Under the first session, up to the second.
	first, second, _ := strings.Cut(after, "SMS-PP download session ended")
	if !strings.Contains(first, "(APDU trace no longer kept") || !strings.Contains(first, "apdu_sessions") || strings.Contains(first, "  > ") {
		t.Errorf("the first session's trace was dropped, and events should say so:\n%s", out)
	}
	if !strings.Contains(second, "  > ") || strings.Contains(second, "no longer kept") {
		t.Errorf("the latest session keeps its APDUs:\n%s", out)
	}
}
