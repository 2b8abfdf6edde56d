package fleet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// TestReplayRefusedAfterRebuild: a phone whose card was put away (beyond
// MaxCards) and rebuilt still refuses a command packet it has already
// accepted: the card's OTA replay counters survive the rebuild.
func TestReplayRefusedAfterRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var answers int
	f, err := fleet.New(fleet.Config{MaxCards: 1, MO: func(context.Context, *smsc.Message) error { answers++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	a, b := fleet.FleetNumber(10), fleet.FleetNumber(11)
	card, err := push.FleetCard(ctx, f.Keystore(), a, false)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := push.Seal(ctx, f.Keystore(), card, nil, [3]byte{}, push.NextCounter("replay-test"), push.Request{MSISDN: a, LoA: authn.LoA2, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := tpdu.NewSIMDataDownload(tpdu.InternationalAddress("99955500"), time.Now(), sealed.Packet).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(n string) error {
		p, err := f.Phone(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		err = p.DeliverSMS(ctx, &smsc.Message{SIMDownload: true, Dest: smsc.Address{Addr: n}}, [][]byte{sms})
		p.Wait()
		return err
	}
	if err := deliver(a); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if answers != 1 {
		t.Fatalf("answers %d after the first delivery, want 1", answers)
	}
	// Using b frees a (MaxCards 1): a is rebuilt from its record, or
	// its card is, while something still holds the phone.
	if _, err := f.Phone(ctx, b); err != nil {
		t.Fatal(err)
	}
	if pa, ok := f.Lookup(a); ok && pa.Resident() {
		t.Fatal("a's card was not put away: the test would not exercise a rebuild")
	}
	err = deliver(a)
	var de *smsc.DeliveryError
	if !errors.As(err, &de) || de.Code != fleet.ErrCodeSIMDownload {
		t.Fatalf("replay after rebuild: err %v, want the SIM to refuse the download", err)
	}
	if answers != 1 {
		t.Errorf("the replayed challenge was answered (%d answers)", answers)
	}
}
