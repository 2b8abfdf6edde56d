package fleet_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// sessionSeen is one Config.OnSession call.
type sessionSeen struct {
	outcome string
	d       time.Duration
}

// TestOverlappingDownloadsKeepTheirSessions sends a phone a second SMS-PP
// download 0.5 s into the proactive session of a first. When the person
// answers the first within the handset's busy wait (2 s), the second
// waits and runs after it: each session keeps its own APDU trace and its
// own latency. When the person takes longer, the second is refused as busy
// and leaves the first session's trace and timing alone.
func TestOverlappingDownloadsKeepTheirSessions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		delay   time.Duration // the person's answer time
		refused bool          // the second download is refused as busy
		want    []time.Duration
	}{
		// a: 0 → 1.5 s; b arrives at 0.5 s, runs 1.5 → 3 s.
		{name: "queued", delay: 1500 * time.Millisecond, want: []time.Duration{1500 * time.Millisecond, 2500 * time.Millisecond}},
		// b gives up at 0.5 + 2 s, a answers at 3 s.
		{name: "refused", delay: 3 * time.Second, refused: true, want: []time.Duration{3 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { overlappingDownloads(t, tc.delay, tc.refused, tc.want) })
		})
	}
}

func overlappingDownloads(t *testing.T, delay time.Duration, refused bool, want []time.Duration) {
	ctx := context.Background()
	var mu sync.Mutex
	var seen []sessionSeen
	f, err := fleet.New(fleet.Config{
		OnSession: func(_, outcome string, d time.Duration) {
			mu.Lock()
			seen = append(seen, sessionSeen{outcome, d})
			mu.Unlock()
		},
		MO: func(context.Context, *smsc.Message) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	msisdn := fleet.FleetNumber(20)
	p, err := f.Phone(ctx, msisdn)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetBehaviour(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(delay)}}); err != nil {
		t.Fatal(err)
	}
	card, err := push.FleetCard(ctx, f.Keystore(), msisdn, false)
	if err != nil {
		t.Fatal(err)
	}
	download := func(n byte) []byte {
		c := ota.Counter{0, 0, 0, 0, n} // the card wants them increasing
		sealed, err := push.Seal(ctx, f.Keystore(), card, nil, [3]byte{}, c, push.Request{MSISDN: msisdn, LoA: authn.LoA2, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		sms, err := tpdu.NewSIMDataDownload(tpdu.InternationalAddress("99955500"), time.Now(), sealed.Packet).AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		return sms
	}
	a, b := download(1), download(2)
	deliver := func(sms []byte) error {
		return p.DeliverSMS(ctx, &smsc.Message{SIMDownload: true, Dest: smsc.Address{Addr: msisdn}}, [][]byte{sms})
	}

	start := time.Now()
	if err := deliver(a); err != nil {
		t.Fatalf("first download: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the bubble's clock: a's prompt is up
	errB := make(chan error, 1)
	go func() { errB <- deliver(b) }()
	err = <-errB
	var de *smsc.DeliveryError
	if refused {
		if !errors.As(err, &de) || de.Code != uint16(handset.ErrToolkitBusy.FCS) || de.Permanent {
			t.Fatalf("second download: %v, want a retryable toolkit busy (D4)", err)
		}
		if got := time.Since(start); got != 2500*time.Millisecond {
			t.Errorf("second download refused at %v, want after the 2 s busy wait", got)
		}
	} else if err != nil {
		t.Fatalf("second download: %v", err)
	}
	p.Wait()
	synctest.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(want) {
		t.Fatalf("OnSession told of %d sessions %v, want %d", len(seen), seen, len(want))
	}
	for i, s := range seen {
		if s.d != want[i] || s.outcome == "no_answer" {
			t.Errorf("session %d: OnSession(%s, %v), want an answer after %v", i+1, s.outcome, s.d, want[i])
		}
	}

	var sessions, refusals []fleet.Event
	for _, e := range p.Events() {
		switch {
		case e.Kind == "session":
			sessions = append(sessions, e)
		case e.Kind == "delivery" && strings.Contains(e.Detail, "refused"):
			refusals = append(refusals, e)
		}
	}
	downloads := [][]byte{a, b}
	if refused {
		downloads = downloads[:1]
		if len(refusals) != 1 || len(refusals[0].APDUs) != 0 {
			t.Errorf("refusal events %+v, want one without APDUs", refusals)
		}
	} else if len(refusals) != 0 {
		t.Errorf("refusal events %+v, want none", refusals)
	}
	if len(sessions) != len(downloads) {
		t.Fatalf("%d session events, want %d: %+v", len(sessions), len(downloads), sessions)
	}
	for i, e := range sessions {
		// Each trace: its own ENVELOPE (SMS-PP download), FETCH, the
		// prompt's TERMINAL RESPONSE, FETCH of the SEND SHORT MESSAGE and
		// its TERMINAL RESPONSE.
		var cmds []string
		for _, x := range e.APDUs {
			cmds = append(cmds, x.Command)
		}
		if len(e.APDUs) < 5 || e.APDUs[0].Command != "ENVELOPE" || !strings.Contains(e.APDUs[0].C, hex.EncodeToString(downloads[i][len(downloads[i])-20:])) {
			t.Errorf("session %d trace %v does not start with its own download's ENVELOPE", i+1, cmds)
		}
		for _, x := range e.APDUs[1:] {
			if x.Command == "ENVELOPE" {
				t.Errorf("session %d trace %v holds another download's ENVELOPE", i+1, cmds)
			}
		}
		if strings.Contains(e.Detail, ":") {
			t.Errorf("session %d: %q, want a clean end", i+1, e.Detail)
		}
	}
}
