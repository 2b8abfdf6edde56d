package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/simlab-dev/simlab/smsc"
)

// TestSendText: a phone's text becomes MO messages from its number, one per
// part with a concatenation header when it does not fit one SMS, UCS2 when
// GSM 7-bit cannot carry it; bad input is refused before anything is sent.
func TestSendText(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*smsc.Message
	f, err := New(Config{MO: func(_ context.Context, m *smsc.Message) error {
		mu.Lock()
		defer mu.Unlock()
		m.ID = string(rune('a' + len(got)))
		if c, ok := smsc.ConcatFromUDH(m.UDH); ok { // as the SMSC's SubmitMO does
			m.Concat = &c
		}
		got = append(got, m)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := f.Phone(ctx, "+99901000042")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := p.SendText(ctx, "12345", "YES")
	if err != nil || len(ids) != 1 || ids[0] != "a" {
		t.Fatalf("ids %v err %v", ids, err)
	}
	if m := got[0]; m.Source.Addr != "99901000042" || m.Dest.Addr != "12345" || m.Dest.TON != 0 {
		t.Fatalf("MO %+v", m)
	} else if text, _ := m.Text(); text != "YES" {
		t.Fatalf("text %q", text)
	}
	long := strings.Repeat("0123456789", 20) // 200 GSM characters: two SMS
	if ids, err = p.SendText(ctx, "+4915112345678", long); err != nil || len(ids) != 2 {
		t.Fatalf("long: ids %v err %v", ids, err)
	}
	r := smsc.Reassemble(got[1:3])
	if !r.Complete || r.Text != long || got[1].Dest.TON != 1 || got[1].Dest.Addr != "4915112345678" {
		t.Fatalf("reassembled %+v, dest %+v", r, got[1].Dest)
	}
	if _, err = p.SendText(ctx, "12345", "Привет"); err != nil || got[3].DCS != 0x08 {
		t.Fatalf("UCS2: DCS %02X err %v", got[3].DCS, err)
	}
	for _, c := range []struct{ to, text string }{{"", "x"}, {"12a", "x"}, {"+", "x"}, {"12345", ""}, {"1", strings.Repeat("x", 2000)}} {
		if _, err := p.SendText(ctx, c.to, c.text); !errors.Is(err, ErrSend) {
			t.Errorf("to %q text of %d: %v", c.to, len(c.text), err)
		}
	}
	p.SetAbsent(true)
	if _, err := p.SendText(ctx, "12345", "x"); !errors.Is(err, ErrSend) {
		t.Errorf("switched off: %v", err)
	}
	if n := len(got); n != 4 {
		t.Fatalf("%d MO sent, want 4", n)
	}
}

// FuzzSendAddress: any address is either refused or digits a TP address
// can carry.
func FuzzSendAddress(f *testing.F) {
	for _, s := range []string{"12345", "+4915112345678", " +999 ", "", "+", "12a", "00491511", strings.Repeat("9", 21)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, to string) {
		a, err := sendAddress(to)
		if err != nil {
			return
		}
		if a.Number == "" || len(a.Number) > 20 || strings.Trim(a.Number, "0123456789") != "" {
			t.Fatalf("%q accepted as %+v", to, a)
		}
	})
}
