package ota

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

func TestParseUDH(t *testing.T) {
	t.Parallel()
	// pySim's tests/unittests/test_sms.py (testdata/vectors.txt [PYSMS]).
	u, rest, err := ParseUDH(vec.Bytes("PYSMS.udh.71"))
	if err != nil || !u.ResponsePacket || u.CommandPacket || len(rest) != 0 {
		t.Errorf("027100: %+v %x %v", u, rest, err)
	}
	u, rest, err = ParseUDH(vec.Bytes("PYSMS.udh.71-70"))
	if err != nil || !u.ResponsePacket || !u.CommandPacket || !bytes.Equal(rest, unhex(t, "abcd")) {
		t.Errorf("0571007001ffabcd: %+v %x %v", u, rest, err)
	}
	u, _, err = ParseUDH(unhex(t, "0608040102030270000000"))
	if err != nil || !u.Concatenated || !u.Ref16 || u.Ref != 0x0102 || u.Total != 3 || u.Seq != 2 {
		t.Errorf("16-bit concat: %+v %v", u, err)
	}
	for _, bad := range []string{"", "03", "0270", "0370050000", "050003010001", "050003010304", "0a000301020100030102", "0500020102"} {
		if _, _, err := ParseUDH(unhex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseUDH(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func limits() ReassemblyLimits {
	return ReassemblyLimits{MaxParts: 4, MaxBytes: 600, MaxAge: time.Minute, MaxPending: 2}
}

func TestSplitAndReassemble(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 137, 138, 132 + 134, 132 + 134 + 1, 500} {
		pkt := make([]byte, n)
		for i := range pkt {
			pkt[i] = byte(i * 7)
		}
		uds, err := SplitSMS(pkt, 0x42)
		if err != nil {
			t.Fatal(err)
		}
		for i, ud := range uds {
			if len(ud) > MaxUserData {
				t.Fatalf("%d bytes: segment %d is %d bytes", n, i, len(ud))
			}
		}
		if n <= 137 && (len(uds) != 1 || !bytes.Equal(uds[0][:3], []byte{2, 0x70, 0})) {
			t.Errorf("%d bytes: %d segments, UDH %x", n, len(uds), uds[0][:3])
		}
		if n > 137 && !bytes.Equal(uds[0][:8], []byte{7, 0, 3, 0x42, byte(len(uds)), 1, 0x70, 0}) {
			t.Errorf("%d bytes: first UDH %x", n, uds[0][:8])
		}
		r, _ := NewReassembler(limits())
		// Deliver in reverse order, with one duplicate.
		var got []byte
		for i := len(uds) - 1; i >= 0; i-- {
			p, err := r.Add(t0, "+4179", uds[i])
			if err != nil {
				t.Fatalf("%d bytes: Add(%d): %v", n, i, err)
			}
			if i == len(uds)-1 && len(uds) > 1 {
				if p2, err := r.Add(t0, "+4179", uds[i]); p2 != nil || err != nil {
					t.Fatalf("duplicate: %x %v", p2, err)
				}
			}
			if p != nil && i != 0 {
				t.Fatalf("%d bytes: complete after segment %d", n, i)
			}
			got = p
		}
		if !bytes.Equal(got, pkt) {
			t.Errorf("%d bytes: reassembled %d bytes", n, len(got))
		}
		if r.Pending() != 0 {
			t.Errorf("%d bytes: %d pending", n, r.Pending())
		}
	}
}

func TestReassemblerLimits(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pkt := make([]byte, 300) // three segments
	uds, _ := SplitSMS(pkt, 1)
	if _, err := NewReassembler(ReassemblyLimits{}); err == nil {
		t.Error("zero limits accepted")
	}
	// Age: the first segment expires before the rest arrive.
	r, _ := NewReassembler(limits())
	r.Add(t0, "a", uds[0])
	r.Add(t0.Add(2*time.Minute), "a", uds[1])
	if p, err := r.Add(t0.Add(2*time.Minute), "a", uds[2]); p != nil || err != nil {
		t.Errorf("expired segment used: %x %v", p, err)
	}
	// Pending: a third sender evicts the oldest.
	r, _ = NewReassembler(limits())
	r.Add(t0, "a", uds[0])
	r.Add(t0.Add(time.Second), "b", uds[0])
	r.Add(t0.Add(2*time.Second), "c", uds[0])
	if r.Pending() != 2 {
		t.Errorf("pending %d, want 2", r.Pending())
	}
	r.Add(t0.Add(3*time.Second), "a", uds[1])
	if p, _ := r.Add(t0.Add(3*time.Second), "a", uds[2]); p != nil {
		t.Error("evicted packet completed")
	}
	// Parts and bytes.
	small := limits()
	small.MaxParts = 2
	r, _ = NewReassembler(small)
	if _, err := r.Add(t0, "a", uds[0]); !errors.Is(err, ErrTooLong) {
		t.Errorf("3 parts with MaxParts 2: %v", err)
	}
	small = limits()
	small.MaxBytes = 200
	r, _ = NewReassembler(small)
	r.Add(t0, "a", uds[0])
	if _, err := r.Add(t0, "a", uds[1]); !errors.Is(err, ErrTooLong) || r.Pending() != 0 {
		t.Errorf("over MaxBytes: %v, pending %d", err, r.Pending())
	}
	// Not a command packet: no IEI 70 in a single SMS or in segment 1.
	r, _ = NewReassembler(limits())
	if _, err := r.Add(t0, "a", unhex(t, "00abcd")); !errors.Is(err, ErrNotCommandPacket) {
		t.Errorf("plain SMS: %v", err)
	}
	first := append([]byte{5, 0, 3, 1, 2, 1}, 0xAA)
	second := append([]byte{5, 0, 3, 1, 2, 2}, 0xBB)
	r.Add(t0, "a", first)
	if _, err := r.Add(t0, "a", second); !errors.Is(err, ErrNotCommandPacket) {
		t.Errorf("segment 1 without IEI 70: %v", err)
	}
}

// onomondo-uicc tests/envelope (testdata/vectors.txt [ON]): the user data
// of the SMS-PP TPDU is UDH 027000 followed by the packet.
func TestReassembleSingleVector(t *testing.T) {
	t.Parallel()
	ud := append([]byte{0x02, 0x70, 0x00}, vec.Bytes("ON/envelope-AES")...)
	r, _ := NewReassembler(limits())
	p, err := r.Add(time.Time{}, "2143", ud)
	if err != nil || !bytes.Equal(p, ud[3:]) {
		t.Fatalf("Add = %x, %v", p, err)
	}
	if _, err := ParseCommand(p); err != nil {
		t.Fatal(err)
	}
}

// TestSegments: the one splitter, for command (IEI 70) and response (71)
// packets alike: the header IE only in the first segment, after the
// concatenation IE; every segment within 140 bytes once its header is
// written; the data back together is the packet.
func TestSegments(t *testing.T) {
	t.Parallel()
	for _, iei := range []byte{IEICommandPacket, IEIResponsePacket} {
		for _, n := range []int{0, 137, 138, 266, 267, 600} {
			pkt := make([]byte, n)
			for i := range pkt {
				pkt[i] = byte(i)
			}
			segs, err := Segments(iei, pkt, 9)
			if err != nil {
				t.Fatal(err)
			}
			var back []byte
			for i, s := range segs {
				ud, err := tpdu.AppendHeader(nil, s.Header)
				if err != nil {
					t.Fatal(err)
				}
				if len(ud)+len(s.Data) > MaxUserData || !s.HasHeader {
					t.Errorf("iei %02X, %d bytes: segment %d is %d bytes", iei, n, i, len(ud)+len(s.Data))
				}
				want := "02" + hexByte(iei) + "00"
				switch {
				case len(segs) > 1 && i == 0:
					want = "070003" + "09" + hexByte(byte(len(segs))) + "01" + hexByte(iei) + "00"
				case len(segs) > 1:
					want = "050003" + "09" + hexByte(byte(len(segs))) + hexByte(byte(i+1))
				}
				if got := hexOf(ud); got != want {
					t.Errorf("iei %02X, %d bytes: segment %d UDH %s, want %s", iei, n, i, got, want)
				}
				back = append(back, s.Data...)
			}
			if !bytes.Equal(back, pkt) {
				t.Errorf("iei %02X, %d bytes: %d bytes back", iei, n, len(back))
			}
		}
	}
	if _, err := Segments(IEICommandPacket, make([]byte, 132+134*255), 1); !errors.Is(err, ErrTooLong) {
		t.Errorf("256 segments: %v", err)
	}
}

func hexByte(b byte) string { return hexOf([]byte{b}) }

func hexOf(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
