package handset

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/applet/cat"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// scriptApplet is a card applet written for these tests: when the terminal
// sends its profile it runs DISPLAY TEXT, GET INPUT and SEND SHORT MESSAGE,
// recording the terminal responses it gets. It runs inside the real
// emulated UICC, so the handset is tested over the real Card seam.
type scriptApplet struct {
	cmds []cat.Command
	mu   sync.Mutex
	trs  []*cat.TerminalResponse
}

func (a *scriptApplet) WatchesTerminalProfile() bool { return true }

func (a *scriptApplet) next(i int) (uicc.Step, error) {
	if i >= len(a.cmds) {
		return uicc.Step{}, nil
	}
	b, err := cat.MarshalCommand(a.cmds[i])
	return uicc.Step{Proactive: b}, err
}

func (a *scriptApplet) Process(ctx context.Context, req *uicc.Request) (uicc.Step, error) {
	return a.next(0)
}

func (a *scriptApplet) Resume(ctx context.Context, env *uicc.Env, tr []byte) (uicc.Step, error) {
	r, err := cat.ParseTerminalResponse(tr)
	if err != nil {
		return uicc.Step{}, err
	}
	a.mu.Lock()
	a.trs = append(a.trs, r)
	n := len(a.trs)
	a.mu.Unlock()
	return a.next(n)
}

func newCard(t *testing.T, a uicc.Applet) *uicc.Card {
	t.Helper()
	p, err := uicc.LoadProfile("../../fixtures/cards/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := uicc.New(p, uicc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Install("authn", a); err != nil {
		t.Fatal(err)
	}
	return c
}

func sessionCommands(t *testing.T, durations ...*cat.Duration) []cat.Command {
	t.Helper()
	mo := &tpdu.Submit{DA: tpdu.InternationalAddress("99912345"), PID: 0x7F, DCS: 0xF6, UD: tpdu.UserData{Data: []byte{1, 2, 3}}}
	moBytes, err := mo.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var d *cat.Duration
	if len(durations) > 0 {
		d = durations[0]
	}
	return []cat.Command{
		&cat.DisplayText{Header: cat.Header{Number: 1}, WaitForUser: true, HighPriority: true, Text: cat.Text("Example Bank\nLogin 4F2A"), Duration: d},
		&cat.GetInput{Header: cat.Header{Number: 2}, HideInput: true, Text: cat.Text("Enter PIN"), Length: cat.ResponseLength{Min: 5, Max: 5}, Duration: d},
		&cat.SendShortMessage{Header: cat.Header{Number: 3}, TPDU: moBytes},
	}
}

type harness struct {
	mu     sync.Mutex
	sent   []*tpdu.Submit
	events []Event
	apdus  int
}

func (h *harness) config(card *uicc.Card, p Answerer) Config {
	return Config{
		Card: card, Person: p, PIN: "24680", PromptTimeout: 30 * time.Second,
		SendSMS: func(ctx context.Context, b *tpdu.Submit) error {
			h.mu.Lock()
			h.sent = append(h.sent, b)
			h.mu.Unlock()
			return nil
		},
		Trace: func(c, r []byte) { h.mu.Lock(); h.apdus++; h.mu.Unlock() },
		Event: func(e Event) { h.mu.Lock(); h.events = append(h.events, e); h.mu.Unlock() },
	}
}

func TestApproveSessionOverEmulatedCard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := &scriptApplet{cmds: sessionCommands(t)}
		card := newCard(t, app)
		var hh harness
		p := person.New(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(1500 * time.Millisecond)}}, 1)
		hs := New(hh.config(card, p))
		start := time.Now()
		atr, err := hs.PowerOn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(atr) == 0 {
			t.Error("no ATR")
		}
		if len(app.trs) != 3 {
			t.Fatalf("applet got %d terminal responses, want 3", len(app.trs))
		}
		for i, tr := range app.trs {
			if tr.Result.General != cat.ResultOK {
				t.Errorf("TR %d result %v", i+1, tr.Result)
			}
		}
		pin, err := app.trs[1].Text.String()
		if err != nil || pin != "24680" {
			t.Errorf("GET INPUT answer = %q, %v; want the PIN the person knows", pin, err)
		}
		if len(hh.sent) != 1 {
			t.Fatalf("SEND SHORT MESSAGE sent %d SMS", len(hh.sent))
		}
		// Two prompts, 1.5 s each, in fake time.
		if el := time.Since(start); el != 3*time.Second {
			t.Errorf("session took %v, want the person's 2 × 1.5 s", el)
		}
		for _, e := range hh.events {
			if strings.Contains(e.Detail, "24680") {
				t.Errorf("event leaks the PIN: %+v", e)
			}
		}
	})
}

func TestUserResultsMapToTerminalResponses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		step    person.Step
		want    cat.GeneralResult
		elapsed time.Duration
	}{
		{"cancel", person.Step{Answer: person.AnswerCancel}, cat.ResultSessionTerminated, 0},
		{"back", person.Step{Answer: person.AnswerBack}, cat.ResultBackwardMove, 0},
		{"busy", person.Step{Answer: person.AnswerBusy}, cat.ResultTerminalUnable, 0},
		{"ignore waits for the command's duration", person.Step{Answer: person.AnswerIgnore}, cat.ResultNoResponse, 10 * time.Second},
		{"too slow", person.Step{Answer: person.AnswerApprove, Delay: person.Duration(time.Minute)}, cat.ResultNoResponse, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := cat.DurationOf(10 * time.Second)
				app := &scriptApplet{cmds: sessionCommands(t, &d)[:1]}
				var hh harness
				hs := New(hh.config(newCard(t, app), person.New(person.Behaviour{Then: tc.step}, 1)))
				start := time.Now()
				if _, err := hs.PowerOn(t.Context()); err != nil {
					t.Fatal(err)
				}
				if len(app.trs) != 1 || app.trs[0].Result.General != tc.want {
					t.Fatalf("TRs %+v, want one with %v", app.trs, tc.want)
				}
				if tc.want == cat.ResultTerminalUnable && (len(app.trs[0].Result.Additional) != 1 || app.trs[0].Result.Additional[0] != cat.CauseScreenBusy) {
					t.Errorf("busy without screen-busy cause: %+v", app.trs[0].Result)
				}
				if el := time.Since(start); el != tc.elapsed {
					t.Errorf("took %v, want %v", el, tc.elapsed)
				}
			})
		})
	}
}

func TestKeywordInDisplayedTextOverridesForTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cmds := sessionCommands(t)
		cmds[0].(*cat.DisplayText).Text = cat.Text("Example Bank\nLogin [wrong-pin]")
		app := &scriptApplet{cmds: cmds}
		var hh harness
		hs := New(hh.config(newCard(t, app), person.New(person.Default(), 1)))
		if _, err := hs.PowerOn(t.Context()); err != nil {
			t.Fatal(err)
		}
		if app.trs[0].Result.General != cat.ResultOK {
			t.Errorf("wrong-pin keyword on the OK prompt: %v, want confirmed", app.trs[0].Result)
		}
		pin, _ := app.trs[1].Text.String()
		if pin == "24680" || len(pin) != 5 {
			t.Errorf("wrong-pin keyword: typed %q", pin)
		}
	})
}

func TestBusyWhileInSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := &scriptApplet{cmds: sessionCommands(t)[:1]}
		var hh harness
		p := person.New(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(5 * time.Second)}}, 1)
		hs := New(hh.config(newCard(t, app), p))
		done := make(chan error)
		go func() { _, err := hs.PowerOn(t.Context()); done <- err }()
		synctest.Wait() // the session is now waiting for the person
		d := tpdu.NewSIMDataDownload(tpdu.InternationalAddress("999000"), time.Now(), []byte{0, 1, 2})
		b, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hs.DeliverSMS(t.Context(), [][]byte{b}); err != ErrToolkitBusy {
			t.Errorf("download during a session: %v, want ErrToolkitBusy", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestTextSMSToInboxAndURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inbox []Message
		var opened []string
		for _, open := range []bool{true, false} {
			inbox, opened = nil, nil
			b := person.Default()
			b.OpenURLs = open
			hs := New(Config{Card: newCard(t, &scriptApplet{}), Person: person.New(b, 1),
				Inbox:   func(m Message) { inbox = append(inbox, m) },
				OpenURL: func(ctx context.Context, u string) error { opened = append(opened, u); return nil }})
			ud, err := tpdu.EncodeGSM7("Your login link: http://127.0.0.1:8775/l/abc ok")
			if err != nil {
				t.Fatal(err)
			}
			d := &tpdu.Deliver{OA: tpdu.InternationalAddress("4912345"), DCS: 0, SCTS: time.Now(), UD: tpdu.UserData{Data: ud}}
			raw, err := d.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hs.DeliverSMS(t.Context(), [][]byte{raw}); err != nil {
				t.Fatal(err)
			}
			if len(inbox) != 1 || inbox[0].URL != "http://127.0.0.1:8775/l/abc" || inbox[0].Opened != open {
				t.Fatalf("open=%v: inbox %+v", open, inbox)
			}
			if (len(opened) == 1) != open {
				t.Errorf("open=%v: opened %v", open, opened)
			}
		}
	})
}

// TestDownloadWaitsForEndingSession: an SMS for the SIM that arrives while
// a session is about to end waits for it (the terminal retrying its
// ENVELOPE) instead of failing as toolkit busy.
func TestDownloadWaitsForEndingSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := &scriptApplet{cmds: sessionCommands(t)[:1]}
		var hh harness
		p := person.New(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(time.Second)}}, 1)
		hs := New(hh.config(newCard(t, app), p))
		done := make(chan error)
		go func() { _, err := hs.PowerOn(t.Context()); done <- err }()
		synctest.Wait()
		d := tpdu.NewSIMDataDownload(tpdu.InternationalAddress("999000"), time.Now(), []byte{0, 1, 2})
		b, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := hs.DeliverSMS(t.Context(), [][]byte{b}); err == ErrToolkitBusy {
			t.Fatal("download refused although the session ended within the busy wait")
		}
		if w := time.Since(start); w != time.Second {
			t.Errorf("download waited %v, want the 1 s the session had left", w)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestWaitWhileSessionsStart: Wait may run in several goroutines while new
// downloads start sessions (a phone getting challenges back to back); it
// must neither panic nor return before the session it overlaps ends.
func TestWaitWhileSessionsStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hh harness
		hs := New(hh.config(newCard(t, &scriptApplet{}), person.New(person.Default(), 1)))
		if _, err := hs.PowerOn(t.Context()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(2)
			go func() { defer wg.Done(); hs.Wait() }()
			go func() {
				defer wg.Done()
				hs.lock()
				time.Sleep(time.Millisecond) // a session in fake time
				hs.unlock()
			}()
		}
		wg.Wait()
		hs.Wait()
	})
}

// TestDefaultTerminalProfile: the profile announces the commands the
// authenticator needs (an applet may check before it asks for a PIN) and
// nothing this terminal does not implement.
func TestDefaultTerminalProfile(t *testing.T) {
	p := cat.TerminalProfile(DefaultTerminalProfile)
	for _, f := range []cat.Facility{cat.FacSMSPPDownload, cat.FacDisplayText, cat.FacGetInput, cat.FacGetInkey, cat.FacSelectItem, cat.FacSendShortMessage, cat.FacUCS2Entry, cat.FacUCS2Display} {
		if !p.Has(f) {
			t.Errorf("profile lacks %v", f)
		}
	}
	for _, f := range []cat.Facility{cat.FacOpenChannel, cat.FacLaunchBrowser, cat.FacTimerManagementStart, cat.FacSetUpIdleModeText} {
		if p.Has(f) {
			t.Errorf("profile announces %v, which the handset does not implement", f)
		}
	}
	if len(DefaultTerminalProfile) != 20 {
		t.Errorf("%d bytes, want 20", len(DefaultTerminalProfile))
	}
}
