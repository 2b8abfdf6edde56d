package uicc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/internal/testvectors"
)

// vec holds the public vectors of testdata/vectors.txt, each with its
// source.
var vec = testvectors.MustLoad("testdata/vectors.txt")

// Proactive commands and terminal responses of ofono's
// unit/stk-test-data.h (TS 31.124 §27.22.4).
var (
	displayText111 = vec.Hex("OF/display-text-1.1.1")
	getInput141    = vec.Hex("OF/get-input-1.4.1")
	trDisplayOK    = vec.Hex("OF/tr-display-text-ok")
	trGetInput141  = vec.Hex("OF/tr-get-input-1.4.1")
)

// promptApplet is a small test applet: on any request it raises its
// proactive commands one by one, records the terminal responses, and ends
// with result.
type promptApplet struct {
	cmds      [][]byte
	result    []byte
	i         int
	trs       [][]byte
	reqs      []Kind
	envelopes []byte // tags accepted
	origin    string
	data      []byte
	sealed    []byte
	seal      bool
	fail      bool
	resets    int
}

func (a *promptApplet) Process(ctx context.Context, req *Request) (Step, error) {
	a.reqs = append(a.reqs, req.Kind)
	if a.fail {
		return Step{}, errors.New("applet failure")
	}
	switch req.Kind {
	case KindSelect:
		return Step{Data: []byte{0x6F, 0x00}}, nil
	case KindAPDU:
		return Step{Data: append([]byte{req.APDU.INS}, req.Data...), SW: 0x9000}, nil
	case KindOTA:
		a.origin = req.Originator
		a.data = append([]byte(nil), req.Data...)
		if a.seal {
			p, err := req.Env.SealResponse([]byte{0xAB})
			if err != nil {
				return Step{}, err
			}
			a.sealed = p
		}
	}
	a.i = 0
	if len(a.cmds) == 0 {
		return Step{Data: a.result}, nil
	}
	return Step{Proactive: a.cmds[0]}, nil
}

func (a *promptApplet) Resume(ctx context.Context, env *Env, tr []byte) (Step, error) {
	a.trs = append(a.trs, append([]byte(nil), tr...))
	a.i++
	if a.i < len(a.cmds) {
		return Step{Proactive: a.cmds[a.i]}, nil
	}
	return Step{Data: a.result}, nil
}

func (a *promptApplet) AcceptsEnvelope(tag byte) bool { return bytes.IndexByte(a.envelopes, tag) >= 0 }
func (a *promptApplet) WatchesTerminalProfile() bool  { return true }
func (a *promptApplet) CardReset()                    { a.resets++ }

func newPromptCard(t testing.TB) (*Card, *promptApplet) {
	c := newCard(t, testProfile)
	a := &promptApplet{cmds: [][]byte{unhex(t, displayText111), unhex(t, getInput141)}, result: []byte{0x01}, envelopes: []byte{0xD3}}
	if err := c.Install("prompt", a); err != nil {
		t.Fatal(err)
	}
	return c, a
}

// TestProactiveSession drives a session through TERMINAL PROFILE (91xx when
// an applet has a pending command, as in the vpcd capture), FETCH,
// TERMINAL RESPONSE.
func TestProactiveSession(t *testing.T) {
	t.Parallel()
	c, a := newPromptCard(t)
	run(t, c, []step{
		{"80F2000C00", "9000"},
		{"801000000CFFFFFFFFFFFFFFFFFFFFFFFF", "911C"},
		{"80F2000C00", "911C"},                  // still pending: every 9000 becomes 91xx
		{"00A40004023F00", "6132"},              // T=0 data first …
		{"00C0000032", "6230…911C"},             // … then 91xx
		{"8014000003010203", "6985"},            // TERMINAL RESPONSE before FETCH
		{"8012000010", "6C1C"},                  // wrong Le
		{"801200001C", displayText111 + "9000"}, // FETCH
		{"801200001C", displayText111 + "9000"}, // fetching again gives the same command
		{"80C2000006D30482020181", "9300"},      // ENVELOPE(menu selection) while busy
		{"801400000C" + trDisplayOK, "9129"},    // next command announced
		{"8012000000", getInput141 + "9000"},    // Le 00
		{"8014000016" + trGetInput141, "9000"},  // session over
		{"8014000016" + trGetInput141, "6985"},
		{"801200001C", "6985"},
		{"8012000100", "6A86"},
	})
	if len(a.trs) != 2 || !bytes.Equal(a.trs[0], unhex(t, trDisplayOK)) || !bytes.Equal(a.trs[1], unhex(t, trGetInput141)) {
		t.Errorf("terminal responses seen by the applet: %X", a.trs)
	}
	if !bytes.Equal(c.termProfile, bytes.Repeat([]byte{0xFF}, 12)) {
		t.Errorf("terminal profile not stored: %X", c.termProfile)
	}
	// An ENVELOPE the applet accepts starts a new session; Reset ends it.
	run(t, c, []step{{"80C2000006D30482020181", "911C"}})
	if _, err := c.Reset(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if a.resets != 1 {
		t.Errorf("applet told of %d resets, want 1", a.resets)
	}
	run(t, c, []step{
		{"80F2000C00", "9000"},
		{"80C2000006D60482020181", "9000"}, // event download nobody accepts
		{"80C2000003FFFFFF", "6A80"},       // only padding (onomondo-uicc's negative case)
		{"80C2000002D0FF", "6A80"},         // not an envelope template / truncated
		{"80C20100020000", "6A86"},
		{"80C20000", "6700"},
		{"8014000000", "6700"},
	})
	want := []Kind{KindTerminalProfile, KindEnvelope}
	if len(a.reqs) != 2 || a.reqs[0] != want[0] || a.reqs[1] != want[1] {
		t.Errorf("requests %v, want %v", a.reqs, want)
	}
}

func TestAppletSelect(t *testing.T) {
	t.Parallel()
	c, _ := newPromptCard(t)
	run(t, c, []step{
		{"00A4040008F073696D6C616201", "6102"},
		{"00C0000002", "6F009000"},
		{"00CA010203AABBCC00", "CAAABBCC9000"}, // routed to the applet
		{"80F2000C00", "9000"},                 // STATUS stays with the card
		{"00A4000C023F00", "9000"},             // selecting a file deselects the applet
		{"00CA010203AABBCC00", "6D00"},
		{"00A4040C05F073696D6C", "9000"}, // partial AID, no data
	})
}

func TestAppletErrors(t *testing.T) {
	t.Parallel()
	c, a := newPromptCard(t)
	a.fail = true
	run(t, c, []step{
		{"801000000101", "9000"},           // the applet's failure does not fail TERMINAL PROFILE
		{"80C2000006D30482020181", "6F00"}, // … but does fail its envelope
		{"00A4040008F073696D6C616201", "6F00"},
	})
	a.fail = false
	a.cmds = [][]byte{unhex(t, "D005810301")} // truncated proactive command
	run(t, c, []step{{"80C2000006D30482020181", "6F00"}, {"80F2000C00", "9000"}})
	if err := c.Install("nope", a); err == nil {
		t.Error("Install of an applet the profile lacks succeeded")
	}
}

func TestTransmitContext(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Transmit(ctx, []byte{0, 0xA4, 0, 0}); !errors.Is(err, context.Canceled) {
		t.Errorf("Transmit with a done context: %v", err)
	}
	if _, err := c.Reset(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Reset with a done context: %v", err)
	}
	_ = apdu.SWOK
}
