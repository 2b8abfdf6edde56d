package smsc_test

import (
	"context"
	"testing"

	"github.com/simlab-dev/simlab/smsc"
)

// TestSubmitInProcess: Server.Submit stores an MT message as a submit_sm
// would (id, direction, state, validity, concatenation from the UDH, SIM
// download mark) and reports it to OnEvent.
func TestSubmitInProcess(t *testing.T) {
	t.Parallel()
	events := make(chan smsc.Event, 4)
	srv := &smsc.Server{Store: smsc.NewMemStore(0), OnEvent: func(e smsc.Event) { events <- e }}
	defer srv.Shutdown(context.Background())
	dcs, body := smsc.EncodeText("part one")
	m := &smsc.Message{Source: smsc.Address{TON: 5, Addr: "BANK"}, Dest: smsc.Address{TON: 1, NPI: 1, Addr: "99901000042"},
		ESMClass: 0x40, DCS: dcs, UDH: []byte{5, 0, 3, 7, 2, 1}, Body: body}
	id, err := srv.Submit(context.Background(), m)
	if err != nil || id == "" {
		t.Fatalf("id %q err %v", id, err)
	}
	got, err := srv.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Direction != smsc.MT || got.SubmitTime.IsZero() || got.ValidUntil.IsZero() || got.Concat == nil || got.Concat.Ref != 7 || got.Concat.Seq != 1 || got.SIMDownload {
		t.Fatalf("stored %+v concat %+v", got, got.Concat)
	}
	if e := <-events; e.Type != smsc.EventStored || e.Message.ID != id {
		t.Fatalf("event %+v", e)
	}
	dl := &smsc.Message{Dest: smsc.Address{Addr: "99901000042"}, PID: 0x7F, DCS: 0xF6, Body: []byte{0, 1}}
	if _, err := srv.Submit(context.Background(), dl); err != nil || !dl.SIMDownload {
		t.Fatalf("SIM download: %v %+v", err, dl)
	}
}
