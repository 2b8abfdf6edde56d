package tpdu

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)

func newR(t testing.TB, l ReassemblyLimits) *Reassembler[string] {
	t.Helper()
	r, err := NewReassembler[string](l)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func joined(g *Group[string]) string { return strings.Join(g.Parts, "") }

func TestUserDataConcat(t *testing.T) {
	for _, tc := range []struct {
		name string
		ies  []IE
		want Concat
		ok   bool
		err  bool
	}{
		{"none", []IE{Port16(2948, 9200)}, Concat{}, false, false},
		{"8-bit", []IE{Concat8(0x42, 3, 2)}, Concat{Ref: 0x42, Total: 3, Seq: 2}, true, false},
		{"16-bit", []IE{Port16(1, 2), Concat16(0xBEEF, 2, 1)}, Concat{Ref: 0xBEEF, Wide: true, Total: 2, Seq: 1}, true, false},
		{"short", []IE{{ID: IEIConcat8, Data: []byte{1, 2}}}, Concat{}, false, true},
		{"seq 0", []IE{Concat8(1, 2, 0)}, Concat{}, false, true},
		{"seq past total", []IE{Concat8(1, 2, 3)}, Concat{}, false, true},
		{"two", []IE{Concat8(1, 2, 1), Concat16(1, 2, 1)}, Concat{}, false, true},
	} {
		c, ok, err := UserData{HasHeader: true, Header: tc.ies}.Concat()
		if c != tc.want || ok != tc.ok || (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrConcat)) {
			t.Errorf("%s: %+v %v %v, want %+v %v err %v", tc.name, c, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}

func TestReassemblerOrders(t *testing.T) {
	l := ReassemblyLimits{MaxParts: 8, MaxBytes: 100, MaxAge: time.Minute, MaxPending: 4}
	for _, tc := range []struct {
		name  string
		wide  bool
		order []uint8
	}{
		{"in order, 8-bit", false, []uint8{1, 2, 3}},
		{"reversed, 8-bit", false, []uint8{3, 2, 1}},
		{"shuffled with duplicates, 16-bit", true, []uint8{2, 2, 3, 3, 1}},
	} {
		r := newR(t, l)
		var done *Group[string]
		dups := 0
		for i, seq := range tc.order {
			a, err := r.Add(t0.Add(time.Duration(i)*time.Second), "+99955500", Concat{Ref: 0x1234, Wide: tc.wide, Total: 3, Seq: seq}, string(rune('a'+seq-1)), 1)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if a.Duplicate {
				dups++
			}
			if a.Complete != nil {
				if done != nil {
					t.Fatalf("%s: completed twice", tc.name)
				}
				done = a.Complete
			}
		}
		if done == nil || joined(done) != "abc" || done.Size != 3 || !done.Complete() || len(done.Missing()) != 0 {
			t.Errorf("%s: %+v", tc.name, done)
		}
		if want := len(tc.order) - 3; dups != want {
			t.Errorf("%s: %d duplicates, want %d", tc.name, dups, want)
		}
		if n, b := r.Pending(); n != 0 || b != 0 {
			t.Errorf("%s: pending %d messages, %d bytes", tc.name, n, b)
		}
	}
}

func TestReassemblerKeys(t *testing.T) {
	r := newR(t, ReassemblyLimits{MaxParts: 8, MaxBytes: 100, MaxAge: time.Minute, MaxPending: 8})
	// Same reference from two senders, 8- and 16-bit, other totals: five
	// messages, none completed by another's parts.
	keys := []struct {
		sender string
		c      Concat
	}{
		{"a", Concat{Ref: 7, Total: 2}}, {"b", Concat{Ref: 7, Total: 2}},
		{"a", Concat{Ref: 7, Wide: true, Total: 2}}, {"a", Concat{Ref: 7, Total: 3}}, {"a", Concat{Ref: 8, Total: 2}},
	}
	for _, k := range keys {
		c := k.c
		c.Seq = 1
		if a, err := r.Add(t0, k.sender, c, k.sender+"1", 2); err != nil || a.Complete != nil || a.Duplicate {
			t.Fatalf("%+v: %+v %v", k, a, err)
		}
	}
	if n, b := r.Pending(); n != 5 || b != 10 {
		t.Fatalf("pending %d messages %d bytes, want 5, 10", n, b)
	}
	c := keys[1].c
	c.Seq = 2
	a, err := r.Add(t0, "b", c, "b2", 2)
	if err != nil || a.Complete == nil || joined(a.Complete) != "b1b2" || a.Complete.Sender != "b" {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestReassemblerExpire(t *testing.T) {
	r := newR(t, ReassemblyLimits{MaxParts: 8, MaxBytes: 100, MaxAge: time.Minute, MaxPending: 4})
	if _, err := r.Add(t0, "a", Concat{Ref: 1, Total: 3, Seq: 1}, "x", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(t0.Add(10*time.Second), "a", Concat{Ref: 1, Total: 3, Seq: 3}, "z", 1); err != nil {
		t.Fatal(err)
	}
	if got := r.Expire(t0.Add(59 * time.Second)); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	got := r.Expire(t0.Add(time.Minute))
	if len(got) != 1 || got[0].Count != 2 || got[0].Complete() || len(got[0].Missing()) != 1 || got[0].Missing()[0] != 2 {
		t.Fatalf("expired %+v", got)
	}
	// The missing part arriving late starts a new message; an Add also
	// gives up what expired.
	if _, err := r.Add(t0.Add(2*time.Minute), "a", Concat{Ref: 2, Total: 2, Seq: 1}, "p", 1); err != nil {
		t.Fatal(err)
	}
	a, err := r.Add(t0.Add(4*time.Minute), "a", Concat{Ref: 1, Total: 3, Seq: 2}, "y", 1)
	if err != nil || a.Complete != nil || len(a.GivenUp) != 1 || a.GivenUp[0].Parts[0] != "p" {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestReassemblerLimits(t *testing.T) {
	for _, l := range []ReassemblyLimits{
		{},
		{MaxParts: 256, MaxBytes: 1, MaxAge: 1, MaxPending: 1},
		{MaxParts: 1, MaxBytes: 10, MaxAge: 1, MaxPending: 1, MaxPendingBytes: 9},
	} {
		if _, err := NewReassembler[string](l); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
	l := ReassemblyLimits{MaxParts: 4, MaxBytes: 10, MaxAge: time.Minute, MaxPending: 2, MaxPendingBytes: 15}
	r := newR(t, l)
	if _, err := r.Add(t0, "a", Concat{Ref: 1, Total: 5, Seq: 1}, "", 1); !errors.Is(err, ErrReassemblyLimit) {
		t.Errorf("5 parts: %v", err)
	}
	if _, err := r.Add(t0, "a", Concat{Ref: 1, Total: 2, Seq: 1}, "", 11); !errors.Is(err, ErrReassemblyLimit) {
		t.Errorf("11-byte part: %v", err)
	}
	// Over MaxBytes in parts: the message is dropped.
	r.Add(t0, "a", Concat{Ref: 1, Total: 3, Seq: 1}, "", 6)
	if _, err := r.Add(t0, "a", Concat{Ref: 1, Total: 3, Seq: 2}, "", 6); !errors.Is(err, ErrReassemblyLimit) {
		t.Errorf("12 bytes: %v", err)
	}
	if n, b := r.Pending(); n != 0 || b != 0 {
		t.Errorf("after the limit: %d messages %d bytes pending", n, b)
	}
	// MaxPending: a third message gives the oldest up.
	r.Add(t0, "a", Concat{Ref: 1, Total: 2, Seq: 1}, "old", 1)
	r.Add(t0.Add(time.Second), "b", Concat{Ref: 1, Total: 2, Seq: 1}, "mid", 1)
	a, _ := r.Add(t0.Add(2*time.Second), "c", Concat{Ref: 1, Total: 2, Seq: 1}, "new", 1)
	if len(a.GivenUp) != 1 || a.GivenUp[0].Parts[0] != "old" {
		t.Errorf("MaxPending gave up %+v", a.GivenUp)
	}
	// MaxPendingBytes: 2 + 8 + 8 > 15 gives the oldest up, not the
	// message the part belongs to.
	r = newR(t, l)
	r.Add(t0, "a", Concat{Ref: 1, Total: 2, Seq: 1}, "a", 8)
	r.Add(t0.Add(time.Second), "b", Concat{Ref: 1, Total: 3, Seq: 1}, "b", 2)
	a, err := r.Add(t0.Add(2*time.Second), "b", Concat{Ref: 1, Total: 3, Seq: 2}, "b", 8)
	if err != nil || len(a.GivenUp) != 1 || a.GivenUp[0].Sender != "a" {
		t.Errorf("MaxPendingBytes: %+v %v", a, err)
	}
	if n, b := r.Pending(); n != 1 || b != 10 {
		t.Errorf("pending %d messages %d bytes, want 1, 10", n, b)
	}
}

// FuzzReassembler adds arbitrary parts: the limits hold, a message
// completes with every part once, nothing panics.
func FuzzReassembler(f *testing.F) {
	f.Add([]byte{0, 3, 1, 0, 3, 3, 0, 3, 2, 0, 3, 2})
	f.Add([]byte{1, 2, 1, 2, 2, 1, 1, 2, 2, 9, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		l := ReassemblyLimits{MaxParts: 4, MaxBytes: 12, MaxAge: time.Minute, MaxPending: 3, MaxPendingBytes: 20}
		r, err := NewReassembler[[]byte](l)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+2 < len(b); i += 3 {
			c := Concat{Ref: uint16(b[i] % 4), Wide: b[i]&4 != 0, Total: b[i+1], Seq: b[i+2]}
			part := b[i : i+1+int(b[i+2]%8)%(len(b)-i)]
			a, err := r.Add(t0.Add(time.Duration(b[i])*time.Second), string(rune('a'+b[i]%3)), c, part, len(part))
			if err != nil {
				continue
			}
			if g := a.Complete; g != nil && (!g.Complete() || g.Size > l.MaxBytes || len(g.Parts) != int(c.Total)) {
				t.Fatalf("complete %+v", g)
			}
			if n, held := r.Pending(); n > l.MaxPending || held > l.MaxPendingBytes {
				t.Fatalf("pending %d messages %d bytes", n, held)
			}
		}
	})
}
