package simulator

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// TestLoginLogRing: once the log is full, the oldest login leaves it for
// each new one; the records it reuses for them carry nothing of the logins
// they held (status, error, PCR, challenge, steps), and the copies a
// reader got before stay as they were.
func TestLoginLogRing(t *testing.T) {
	l := &LoginLog{Max: 3}
	t0 := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	ev := func(i int, step string) mobileconnect.LoginEvent {
		return mobileconnect.LoginEvent{ID: "login" + strconv.Itoa(i), Step: step, Time: t0.Add(time.Duration(i) * time.Second),
			Flow: mobileconnect.FlowRedirect, ClientID: "client" + strconv.Itoa(i), ACRAsked: "3", LoginHintMethod: "MSISDN",
			MSISDN: "9990100000" + strconv.Itoa(i)}
	}
	// Logins 0..2 fill the log, each failed, with a PCR and a challenge.
	for i := range 3 {
		l.add(ev(i, mobileconnect.StepRequest), nil)
		e := ev(i, mobileconnect.StepError)
		e.Error, e.ErrorDescription, e.MessageID = "access_denied", "cancelled", "m"+strconv.Itoa(i)
		e.Time = e.Time.Add(500 * time.Millisecond)
		l.add(e, &IDTokenView{Alg: "ES256"})
		l.setPCR(e.ID, "pcr"+strconv.Itoa(i))
		l.mu.Lock()
		l.byID[e.ID].Challenge = &ChallengeRef{MSISDN: e.MSISDN, FirstSeq: uint64(i)}
		l.mu.Unlock()
	}
	before, _ := l.Recent(LoginFilter{Limit: 10})
	kept := make([]Login, len(before))
	for i, r := range before {
		kept[i] = r
		kept[i].Steps = append([]LoginStep(nil), r.Steps...)
	}

	// Logins 3 and 4 take the places of 0 and 1: one step each.
	for i := 3; i < 5; i++ {
		l.add(ev(i, mobileconnect.StepRequest), nil)
	}
	l.setPCR("login0", "late") // gone: changes nothing
	got, next := l.Recent(LoginFilter{Limit: 10})
	if next != 0 || len(got) != 3 {
		t.Fatalf("%d logins (next %d), want 3", len(got), next)
	}
	for j, want := range []int{4, 3, 2} {
		if got[j].ID != "login"+strconv.Itoa(want) || got[j].Seq != uint64(want+1) {
			t.Errorf("login %d: %s seq %d, want login%d seq %d", j, got[j].ID, got[j].Seq, want, want+1)
		}
	}
	for _, r := range got[:2] {
		i, _ := strconv.Atoi(r.ID[len("login"):])
		want := Login{Seq: uint64(i + 1), ID: r.ID, Flow: mobileconnect.FlowRedirect, Start: t0.Add(time.Duration(i) * time.Second),
			ClientID: "client" + strconv.Itoa(i), ACRAsked: "3", LoginHintMethod: "MSISDN", MSISDN: "9990100000" + strconv.Itoa(i),
			Status: "waiting", Steps: []LoginStep{{Step: mobileconnect.StepRequest, Time: t0.Add(time.Duration(i) * time.Second)}}}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("reused record:\n%+v\nwant\n%+v", r, want)
		}
	}
	if r := got[2]; r.Status != "failed" || r.PCR != "pcr2" || r.Challenge == nil || len(r.Steps) != 2 || r.LatencyMS != 500 {
		t.Errorf("login2 changed: %+v", r)
	}
	if !reflect.DeepEqual(before, kept) {
		t.Errorf("a reader's copies changed when their records were reused:\n%+v\nwas\n%+v", before, kept)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Nor past their steps' end, in the array they keep: login0's error
	// step, its id_token with it, does not stay behind login3's one step
	// (nor login1's behind login4's).
	for _, r := range l.ring {
		for j, s := range r.Steps[len(r.Steps):cap(r.Steps)] {
			if s != (LoginStep{}) {
				t.Errorf("%s: step %d past its %d steps holds %+v", r.ID, len(r.Steps)+j, len(r.Steps), s)
			}
		}
	}
	if len(l.byID) != 3 || l.byID["login0"] != nil || l.byID["login1"] != nil {
		t.Errorf("index holds %d logins, login0 %v, login1 %v", len(l.byID), l.byID["login0"], l.byID["login1"])
	}
}
