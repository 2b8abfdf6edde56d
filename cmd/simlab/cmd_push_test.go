package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
)

// pushJSON runs `simlab push … --json` and decodes the result; it fails
// the test unless the exit code is 0.
func pushJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errb := runCLI(t, append(append([]string{"push"}, args...), "--json")...)
	if code != exitOK {
		t.Fatalf("push %v: exit %d: %s", args, code, errb)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("push %v: not JSON: %v\n%s", args, err, out)
	}
	for _, k := range []string{"msisdn", "outcome", "acr", "transaction_id", "signature_valid", "latency_ms", "mode"} {
		if _, ok := m[k]; !ok {
			t.Errorf("push %v: JSON lacks %q: %s", args, k, out)
		}
	}
	return m
}

// binding returns --system-id and --source flags unique to this test run,
// so that concurrent pushes each get their own answers.
func binding() []string {
	n := bindSeq.Add(1)
	return []string{"--system-id", fmt.Sprintf("t%d", n), "--source", fmt.Sprintf("999556%04d", n)}
}

var bindSeq atomic.Int64

// nextCounterTick returns once the clock has moved to the next replay
// counter tick (push.CounterTick, about 1 ms). Counters strictly increase
// per card keyset within one process (push.NextCounter); these tests also
// make sure that back-to-back runs never share a tick, as separate
// processes cannot share one either.
func nextCounterTick() {
	start := time.Now().UnixNano() / int64(push.CounterTick)
	for time.Now().UnixNano()/int64(push.CounterTick) == start {
		runtime.Gosched()
	}
}

// acrOf returns the acr as a string, "null" for JSON null.
func acrOf(m map[string]any) string {
	if m["acr"] == nil {
		return "null"
	}
	return fmt.Sprint(m["acr"])
}

// TestPushCLIEveryOutcome runs `simlab push` against an in-process simlab
// for every magic outcome at LoA 2, 3 and "3,2".
func TestPushCLIEveryOutcome(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	type want struct{ outcome, acr string }
	cases := []struct {
		magic   string
		timeout string
		loa2    want
		loa3    want
		loa32   want
	}{
		{"approve", "10s", want{"approved", "2"}, want{"approved", "3"}, want{"approved", "3"}},
		{"cancel", "10s", want{"cancelled", "null"}, want{"cancelled", "null"}, want{"cancelled", "null"}},
		{"ignore", "2s", want{"timeout", "null"}, want{"timeout", "null"}, want{"timeout", "null"}},
		{"wrong-pin", "10s", want{"approved", "2"}, want{"wrong_pin", "null"}, want{"wrong_pin", "null"}},
		{"pin-blocked", "10s", want{"approved", "2"}, want{"pin_blocked", "null"}, want{"pin_blocked", "null"}},
		{"no-nfc", "10s", want{"sim_error", "null"}, want{"sim_error", "null"}, want{"sim_error", "null"}},
		{"no-pin-support", "10s", want{"approved", "2"}, want{"pin_not_supported", "null"}, want{"approved", "2"}},
		{"absent", "1s", want{"not_delivered", "null"}, want{"not_delivered", "null"}, want{"not_delivered", "null"}},
		{"delivery-error", "10s", want{"not_delivered", "null"}, want{"not_delivered", "null"}, want{"not_delivered", "null"}},
		{"sim-error", "10s", want{"sim_error", "null"}, want{"sim_error", "null"}, want{"sim_error", "null"}},
		{"busy", "10s", want{"busy", "null"}, want{"busy", "null"}, want{"busy", "null"}},
		{"slow", "10s", want{"approved", "2"}, want{"approved", "3"}, want{"approved", "3"}},
	}
	for ci, c := range cases {
		for i, l := range []struct {
			loa  string
			want want
		}{{"2", c.loa2}, {"3", c.loa3}, {"3,2", c.loa32}} {
			t.Run(c.magic+"/"+l.loa, func(t *testing.T) {
				t.Parallel()
				n := "+" + simtest.Number(t, c.magic, 9000+i)
				id := fmt.Sprintf("%02d%d", ci, i)
				m := pushJSON(t, "--smpp", s.SMPPAddr, "--system-id", "cli"+id, "--source", "99955"+id, "--to", n, "--loa", l.loa,
					"--client-name", "Example Bank", "--binding-message", "Login 4F2A", "--timeout", c.timeout)
				if m["outcome"] != l.want.outcome || acrOf(m) != l.want.acr {
					t.Errorf("%s LoA %s: outcome %v acr %s (%v), want %s acr %s", n, l.loa, m["outcome"], acrOf(m), m["detail"], l.want.outcome, l.want.acr)
				}
				applet := l.want.outcome != "timeout" && l.want.outcome != "not_delivered" && l.want.outcome != "sim_error"
				if applet && m["signature_valid"] != true {
					t.Errorf("%s LoA %s: signature not valid", n, l.loa)
				}
				if m["msisdn"] != n[1:] || m["mode"] != "applet" {
					t.Errorf("msisdn %v mode %v", m["msisdn"], m["mode"])
				}
			})
		}
	}
}

// TestPushCLIAfterPhoneSet scripts phones with `simlab phone set` and
// checks `simlab push` gives the scripted outcome.
func TestPushCLIAfterPhoneSet(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	api := []string{"--api", s.URL}
	set := func(t *testing.T, n string, flags ...string) {
		t.Helper()
		if code, _, errb := runCLI(t, append(append([]string{"phone", "set", n}, flags...), api...)...); code != exitOK {
			t.Fatalf("phone set %s %v: exit %d: %s", n, flags, code, errb)
		}
	}
	push := func(t *testing.T, n, loa string, extra ...string) map[string]any {
		t.Helper()
		nextCounterTick()
		// The previous answer can arrive a moment before the phone's
		// toolkit session has closed; a challenge in that moment would be
		// refused as busy (TP-FCS D4) and retried after 5 s, beyond these
		// short validities. Wait for the phone to be idle.
		s.Phone(t, n).Wait()
		return pushJSON(t, append(append([]string{"--smpp", s.SMPPAddr, "--to", n, "--loa", loa, "--timeout", "3s"}, binding()...), extra...)...)
	}
	check := func(t *testing.T, m map[string]any, outcome, acr string) {
		t.Helper()
		if m["outcome"] != outcome || acrOf(m) != acr {
			t.Errorf("outcome %v acr %s (%v), want %s acr %s", m["outcome"], acrOf(m), m["detail"], outcome, acr)
		}
	}

	t.Run("three wrong PINs block, then approve is still blocked", func(t *testing.T) {
		t.Parallel()
		n := "+" + simtest.Number(t, "approve", 9101)
		set(t, n, "--answer", "wrong-pin")
		for i, tries := range []float64{2, 1} {
			m := push(t, n, "3")
			check(t, m, "wrong_pin", "null")
			if m["pin_tries_left"] != tries {
				t.Errorf("wrong PIN %d: tries left %v, want %v", i+1, m["pin_tries_left"], tries)
			}
		}
		check(t, push(t, n, "3"), "pin_blocked", "null")
		set(t, n, "--answer", "approve")
		check(t, push(t, n, "3"), "pin_blocked", "null")
		check(t, push(t, n, "3,2"), "pin_blocked", "null")
		check(t, push(t, n, "2"), "approved", "2")
		// phone get shows it blocked; reset unblocks.
		if _, out, _ := runCLI(t, append([]string{"phone", "get", n}, api...)...); !strings.Contains(out, "blocked") {
			t.Errorf("phone get:\n%s", out)
		}
		runCLI(t, append([]string{"phone", "reset", n}, api...)...)
		check(t, push(t, n, "3"), "approved", "3")
	})

	t.Run("--pin sets the card's PIN and the one typed", func(t *testing.T) {
		t.Parallel()
		n := "+" + simtest.Number(t, "approve", 9102)
		set(t, n, "--answer", "approve", "--pin", "24680")
		check(t, push(t, n, "3"), "approved", "3")
		// An unscripted phone with a new PIN: the keyword types the old
		// default, which the card no longer holds.
		n2 := "+" + simtest.Number(t, "approve", 9103)
		set(t, n2, "--pin", "24680")
		check(t, push(t, n2, "3", "--binding-message", "[pin=12345]"), "wrong_pin", "null")
		check(t, push(t, n2, "3", "--binding-message", "[pin=24680]"), "approved", "3")
	})

	for i, c := range []struct {
		name    string
		flags   []string
		loa     string
		outcome string
		acr     string
	}{
		{"cancel", []string{"--answer", "cancel"}, "3", "cancelled", "null"},
		{"ignore", []string{"--answer", "ignore"}, "2", "timeout", "null"},
		{"busy", []string{"--answer", "busy"}, "3,2", "busy", "null"},
		{"delay within timeout", []string{"--answer", "approve", "--delay", "500ms"}, "2", "approved", "2"},
		{"delay beyond timeout", []string{"--answer", "approve", "--delay", "1m"}, "2", "timeout", "null"},
		{"no pin support", []string{"--no-pin-support"}, "3", "pin_not_supported", "null"},
		{"no pin support 3,2", []string{"--answer", "approve", "--no-pin-support"}, "3,2", "approved", "2"},
		{"no nfc", []string{"--no-nfc"}, "2", "sim_error", "null"},
		{"sequence", []string{"--answer", "cancel,approve"}, "3", "cancelled", "null"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := "+" + simtest.Number(t, "approve", 9200+i)
			set(t, n, c.flags...)
			check(t, push(t, n, c.loa), c.outcome, c.acr)
		})
	}

	t.Run("absent then back", func(t *testing.T) {
		t.Parallel()
		n := "+" + simtest.Number(t, "approve", 9301)
		set(t, n, "--absent")
		check(t, pushJSON(t, append([]string{"--smpp", s.SMPPAddr, "--to", n, "--loa", "2", "--timeout", "1s"}, binding()...)...), "not_delivered", "null")
		set(t, n, "--absent=false")
		check(t, push(t, n, "2"), "approved", "2")
	})
}

func TestPushCLIModes(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := "+" + simtest.Number(t, "approve", 9401)
	m := pushJSON(t, "--smpp", s.SMPPAddr, "--to", n, "--url", "--client-name", "Example Bank", "--binding-message", "Login", "--timeout", "10s")
	if m["outcome"] != "approved" || acrOf(m) != "2" || m["mode"] != "url" {
		t.Errorf("--url: %v", m)
	}
	m = pushJSON(t, "--smpp", s.SMPPAddr, "--to", n, "--otp", "--otp-length", "6", "--api", s.URL, "--timeout", "10s")
	if m["outcome"] != "approved" || acrOf(m) != "2" || m["mode"] != "otp" {
		t.Errorf("--otp: %v", m)
	}
	// Not opened: the person does not open links.
	if code, _, errb := runCLI(t, "phone", "set", n, "--api", s.URL, "--answer", "approve", "--open-urls=false"); code != exitOK {
		t.Fatal(errb)
	}
	m = pushJSON(t, "--smpp", s.SMPPAddr, "--to", n, "--url", "--timeout", "1s")
	if m["outcome"] != "timeout" || acrOf(m) != "null" {
		t.Errorf("--url not opened: %v", m)
	}
	// The readable form.
	code, out, errb := runCLI(t, "push", "--smpp", s.SMPPAddr, "--to", n, "--loa", "3", "--upk", "--tdes")
	if code != exitOK || errb != "" {
		t.Fatalf("exit %d: %s", code, errb)
	}
	// The former name still works, and says it is deprecated.
	if code, _, errb := runCLI(t, "push", "--smpp", s.SMPPAddr, "--to", n, "--loa", "2", "--3des"); code != exitOK || !strings.Contains(errb, "--3des is deprecated: use --tdes") {
		t.Errorf("--3des: exit %d %q", code, errb)
	}
	for _, want := range []string{"outcome", "approved", "acr", "3", "signature", "valid", "upk", "latency"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// What the phone saw: `phone inbox` and `phone events`.
	code, out, errb = runCLI(t, "phone", "inbox", n, "--api", s.URL)
	if code != exitOK || !strings.Contains(out, "Example Bank: Login http://127.0.0.1:") || !strings.Contains(out, "[link opened]") ||
		!strings.Contains(out, "Your simlab code is") || !strings.Contains(out, "[link not opened]") || !strings.Contains(out, "3 message(s)") {
		t.Errorf("phone inbox: exit %d %s\n%s", code, errb, out)
	}
	code, out, errb = runCLI(t, "phone", "events", n, "--api", s.URL, "--apdus")
	if code != exitOK || !strings.Contains(out, "SMS-PP download session ended") || !strings.Contains(out, "  >") || !strings.Contains(out, "opened http://127.0.0.1:") {
		t.Errorf("phone events: exit %d %s\n%s", code, errb, out)
	}
}

func TestPushCLIErrors(t *testing.T) {
	t.Parallel()
	n := "+" + simtest.Number(t, "approve", 9501)
	for _, args := range [][]string{
		{"push", "--to", n},                        // no --loa
		{"push", "--loa", "3"},                     // no --to
		{"push", "--to", n, "--loa", "4"},          // bad LoA
		{"push", "--to", n, "--loa", "3", "--url"}, // URL is LoA2
		{"push", "--to", n, "--url", "--otp"},      // both modes
		{"push", "--to", n, "--otp", "--otp-length", "3"},
		{"push", "--to", n, "--loa", "2", "--url-base", "http://x"},
		{"push", "--to", n, "--loa", "2", "--timeout", "0s"},
		{"push", "--to", n, "--loa", "2", "extra"},
		{"push", "--to", n, "--otp", "--fleet", "x.yaml"}, // keys are for challenges
	} {
		if code, _, errb := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errb)
		}
	}
	// A fleet file that cannot be read fails before anything is sent.
	if code, _, errb := runCLI(t, "push", "--smpp", "127.0.0.1:1", "--to", n, "--loa", "2", "--fleet", "no-such-fleet.yaml"); code != exitFailure || !strings.Contains(errb, "no-such-fleet.yaml") {
		t.Errorf("missing fleet file: exit %d (%s)", code, errb)
	}
	// Nothing listens on port 1: the push cannot be made.
	if code, _, errb := runCLI(t, "push", "--smpp", "127.0.0.1:1", "--to", n, "--loa", "2"); code != exitFailure {
		t.Errorf("no SMSC: exit %d (%s)", code, errb)
	}
}
