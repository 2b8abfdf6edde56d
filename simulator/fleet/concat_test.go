package fleet_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// TestPhoneReassemblesText: a phone's inbox shows a concatenated text once,
// whole, with its parts count; a text missing a part shows, in fake time,
// once handset.DefaultReassemblyLimits.MaxAge has passed, with the missing
// part named, when the inbox is next looked at.
func TestPhoneReassemblesText(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		p := fleetPhone(t, fleet.Config{})
		text := strings.Repeat("A long message. ", 25)
		m := &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: "99955500"}}
		parts := deliverParts(t, "99955500", text, 9)
		for _, i := range []int{2, 0, 1} {
			if err := p.DeliverSMS(ctx, m, parts[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		in := p.Inbox()
		if len(in) != 1 || in[0].Text != text || in[0].Parts != 3 || in[0].Missing != nil {
			t.Fatalf("inbox %+v", in)
		}
		if info := p.Info(); info.Inbox != 1 {
			t.Errorf("info counts %d messages", info.Inbox)
		}
		parts = deliverParts(t, "99955500", text, 10)
		for _, i := range []int{0, 2} {
			if err := p.DeliverSMS(ctx, m, parts[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(handset.DefaultReassemblyLimits.MaxAge - time.Millisecond) // fake time
		if in := p.Inbox(); len(in) != 1 {
			t.Fatalf("given up early: %+v", in)
		}
		time.Sleep(time.Millisecond)
		in = p.Inbox()
		if len(in) != 2 || in[1].Parts != 3 || !slices.Equal(in[1].Missing, []int{2}) || in[1].From != "+99955500" {
			t.Fatalf("inbox %+v", in)
		}
		ev := p.Events()
		if last := ev[len(ev)-1]; last.Kind != "sms_in" || !strings.Contains(last.Detail, "incomplete") {
			t.Errorf("last event %+v", last)
		}
	})
}

// fleetPhone is the phone of fleet number 21 of a fleet made with cfg.
func fleetPhone(t *testing.T, cfg fleet.Config) *fleet.Phone {
	t.Helper()
	f, err := fleet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Phone(context.Background(), fleet.FleetNumber(21))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func deliverParts(t *testing.T, from, text string, ref uint16) [][]byte {
	t.Helper()
	dcs, data := tpdu.EncodeText(text)
	uds, err := tpdu.Split(dcs, data, nil, ref, false)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(uds))
	for i, ud := range uds {
		d := &tpdu.Deliver{OA: tpdu.InternationalAddress(from), DCS: dcs, SCTS: time.Now(), UD: ud}
		if out[i], err = d.AppendBinary(nil); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPlanReassemblyLimits: the fleet file's reassembly section sets the
// phones' limits (here a text missing a part is given up after 30 s of
// fake time, not the default 2 minutes); fields left out keep the
// defaults, and limits that could hold nothing are refused with their
// field named.
func TestPlanReassemblyLimits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		plan, err := fleet.ParsePlan([]byte(`
reassembly: {max_age: 30s, max_pending: 2}
ranges: [{prefix: "99901", digits: 11}]
`))
		if err != nil {
			t.Fatal(err)
		}
		p := fleetPhone(t, fleet.Config{Plan: plan})
		text := strings.Repeat("A long message. ", 25)
		m := &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: "99955500"}}
		parts := deliverParts(t, "99955500", text, 11)
		for _, i := range []int{0, 2} {
			if err := p.DeliverSMS(ctx, m, parts[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(30*time.Second - time.Millisecond) // fake time
		if in := p.Inbox(); len(in) != 0 {
			t.Fatalf("given up before max_age: %+v", in)
		}
		time.Sleep(time.Millisecond)
		if in := p.Inbox(); len(in) != 1 || !slices.Equal(in[0].Missing, []int{2}) {
			t.Fatalf("inbox after max_age %+v", in)
		}
		// max_pending 2: a third text being joined gives up the oldest.
		for ref := uint16(20); ref < 23; ref++ {
			parts := deliverParts(t, "99955500", text, ref)
			if err := p.DeliverSMS(ctx, m, parts[:1]); err != nil {
				t.Fatal(err)
			}
		}
		if in := p.Inbox(); len(in) != 2 || !slices.Equal(in[1].Missing, []int{2, 3}) {
			t.Fatalf("inbox after three texts pending with max_pending 2: %+v", in)
		}
	})
	for doc, field := range map[string]string{
		"reassembly: {max_age: 0s}":                              "reassembly.max_age",
		"reassembly: {max_parts: 256}":                           "reassembly.max_parts",
		"reassembly: {max_pending: 0}":                           "reassembly.max_pending",
		"reassembly: {max_bytes: 4096, max_pending_bytes: 1000}": "reassembly.max_pending_bytes",
		"reassembly: {max_colour: 1}":                            "max_colour",
	} {
		_, err := fleet.ParsePlan([]byte(doc + "\nranges: [{prefix: \"99901\", digits: 11}]\n"))
		if !errors.Is(err, fleet.ErrPlan) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want a plan error naming %s", doc, err, field)
		}
	}
}
