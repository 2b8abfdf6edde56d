package ota

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Information Element Identifiers of the user data header used with
// secured packets (TS 23.040 §9.2.3.24, TS 31.115 §4.2 and §4.4).
const (
	IEIConcat8        = 0x00 // concatenated short messages, 8-bit reference
	IEIConcat16       = 0x08 // concatenated short messages, 16-bit reference
	IEICommandPacket  = 0x70 // (U)SIM toolkit security header: command packet identifier
	IEIResponsePacket = 0x71 // (U)SIM toolkit security header: response packet identifier
)

// MaxUserData is the size of the TP-User-Data of one 8-bit SMS (TS 23.040
// §9.2.3.16).
const MaxUserData = 140

// UDH is what a user data header says about a secured packet
// (TS 23.040 §9.2.3.24). Information elements other than the four above
// are skipped.
type UDH struct {
	CommandPacket  bool   // IEI 70 present
	ResponsePacket bool   // IEI 71 present
	Concatenated   bool   // IEI 00 or 08 present
	Ref16          bool   // the reference is 16-bit (IEI 08)
	Ref            uint16 // concatenation reference
	Total          uint8  // number of segments
	Seq            uint8  // this segment's number, from 1
}

// ParseUDH decodes the user data header at the start of ud (UDHL first)
// and returns it with the user data that follows it.
func ParseUDH(ud []byte) (UDH, []byte, error) {
	var u UDH
	if len(ud) < 1 {
		return u, nil, decodeErr(0, "UDHL", "missing")
	}
	end := 1 + int(ud[0])
	if end > len(ud) {
		return u, nil, decodeErr(0, "UDHL", "value %d exceeds the %d bytes after it", ud[0], len(ud)-1)
	}
	for off := 1; off < end; {
		if off+2 > end {
			return u, nil, decodeErr(off, "UDH", "truncated information element")
		}
		iei, l := ud[off], int(ud[off+1])
		v := off + 2
		if v+l > end {
			return u, nil, decodeErr(off+1, "UDH", "IEI %02x length %d runs past the header", iei, l)
		}
		switch iei {
		case IEIConcat8, IEIConcat16:
			want := 3
			if iei == IEIConcat16 {
				want = 4
			}
			if l != want {
				return u, nil, decodeErr(off+1, "UDH", "IEI %02x length %d, want %d", iei, l, want)
			}
			if u.Concatenated {
				return u, nil, decodeErr(off, "UDH", "second concatenation element")
			}
			u.Concatenated = true
			if iei == IEIConcat8 {
				u.Ref = uint16(ud[v])
			} else {
				u.Ref16 = true
				u.Ref = uint16(ud[v])<<8 | uint16(ud[v+1])
				v++
			}
			u.Total, u.Seq = ud[v+1], ud[v+2]
			if u.Total == 0 || u.Seq == 0 || u.Seq > u.Total {
				return u, nil, decodeErr(v+1, "UDH", "concatenation segment %d of %d", u.Seq, u.Total)
			}
		case IEICommandPacket:
			u.CommandPacket = true
		case IEIResponsePacket:
			u.ResponsePacket = true
		}
		off = v + l
	}
	return u, ud[end:], nil
}

// SplitSMS returns the TP-User-Data (UDH included) of the short messages
// that carry the command packet pkt (from CPL) as TS 31.115 §4.2 asks: one
// message with UDH 02 70 00 when it fits in 140 bytes, otherwise
// concatenated messages with an 8-bit reference ref, the first with UDH
// 07 00 03 ref n 01 70 00, the others 05 00 03 ref n i.
func SplitSMS(pkt []byte, ref uint8) ([][]byte, error) {
	if 3+len(pkt) <= MaxUserData {
		ud := make([]byte, 0, 3+len(pkt))
		ud = append(ud, 0x02, IEICommandPacket, 0x00)
		return [][]byte{append(ud, pkt...)}, nil
	}
	const first, next = MaxUserData - 8, MaxUserData - 6
	n := 1 + (len(pkt)-first+next-1)/next
	if n > 255 {
		return nil, fmt.Errorf("%w: %d bytes need %d short messages, more than 255", ErrTooLong, len(pkt), n)
	}
	out := make([][]byte, 0, n)
	back := make([]byte, 0, len(pkt)+8+6*(n-1))
	for i := 1; i <= n; i++ {
		s := len(back)
		take := next
		if i == 1 {
			take = first
			back = append(back, 0x07, IEIConcat8, 0x03, ref, byte(n), 1, IEICommandPacket, 0x00)
		} else {
			back = append(back, 0x05, IEIConcat8, 0x03, ref, byte(n), byte(i))
		}
		take = min(take, len(pkt))
		back = append(back, pkt[:take]...)
		pkt = pkt[take:]
		out = append(out, back[s:len(back):len(back)])
	}
	return out, nil
}

// ErrNotCommandPacket is returned for short messages that do not carry a
// command packet: no IEI 70 in the (first) message's UDH.
var ErrNotCommandPacket = errors.New("ota: not a command packet (no IEI 70)")

// ReassemblyLimits bound a Reassembler. All must be positive.
type ReassemblyLimits struct {
	MaxParts   int           // most segments one packet may have (at most 255)
	MaxBytes   int           // largest reassembled packet, in bytes
	MaxAge     time.Duration // a packet still incomplete this long after its first segment is dropped
	MaxPending int           // most packets being reassembled at once; beyond it the oldest is dropped
}

// Reassembler joins the concatenated short messages that carry one command
// packet (TS 31.115 §4.2; TS 23.040 §9.2.3.24.1), card side. It holds no
// global state and takes the time from its caller. It is safe for
// concurrent use.
type Reassembler struct {
	limits  ReassemblyLimits
	mu      sync.Mutex
	pending map[reasmKey]*partial
}

type reasmKey struct {
	sender string
	ref    uint16
	ref16  bool
	total  uint8
}

type partial struct {
	first time.Time
	parts [][]byte
	have  int
	size  int
	cmd   bool // segment 1 carried IEI 70
}

// NewReassembler returns a Reassembler bounded by l.
func NewReassembler(l ReassemblyLimits) (*Reassembler, error) {
	if l.MaxParts <= 0 || l.MaxParts > 255 || l.MaxBytes <= 0 || l.MaxAge <= 0 || l.MaxPending <= 0 {
		return nil, fmt.Errorf("ota: reassembly limits must be positive (MaxParts at most 255): %+v", l)
	}
	return &Reassembler{limits: l, pending: make(map[reasmKey]*partial)}, nil
}

// Add takes the TP-User-Data (UDH first) of one short message from sender
// received at now. It returns the command packet (from CPL) once all
// segments are in, nil while segments are missing, or an error for a
// message that is malformed, not a command packet, or over a limit (the
// partial packet is then dropped). A repeated segment is ignored.
func (r *Reassembler) Add(now time.Time, sender string, ud []byte) ([]byte, error) {
	u, payload, err := ParseUDH(ud)
	if err != nil {
		return nil, err
	}
	if !u.Concatenated {
		if !u.CommandPacket {
			return nil, ErrNotCommandPacket
		}
		if len(payload) > r.limits.MaxBytes {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(payload), r.limits.MaxBytes)
		}
		return append([]byte(nil), payload...), nil
	}
	if int(u.Total) > r.limits.MaxParts {
		return nil, fmt.Errorf("%w: %d segments, limit %d", ErrTooLong, u.Total, r.limits.MaxParts)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	k := reasmKey{sender: sender, ref: u.Ref, ref16: u.Ref16, total: u.Total}
	p := r.pending[k]
	if p == nil {
		if len(r.pending) >= r.limits.MaxPending {
			r.dropOldest()
		}
		p = &partial{first: now, parts: make([][]byte, u.Total)}
		r.pending[k] = p
	}
	i := int(u.Seq) - 1
	if p.parts[i] != nil {
		return nil, nil
	}
	p.size += len(payload)
	if p.size > r.limits.MaxBytes {
		delete(r.pending, k)
		return nil, fmt.Errorf("%w: more than %d bytes in segments", ErrTooLong, r.limits.MaxBytes)
	}
	p.parts[i] = append(make([]byte, 0, len(payload)), payload...)
	if u.Seq == 1 {
		p.cmd = u.CommandPacket
	}
	p.have++
	if p.have < len(p.parts) {
		return nil, nil
	}
	delete(r.pending, k)
	if !p.cmd {
		return nil, ErrNotCommandPacket
	}
	out := make([]byte, 0, p.size)
	for _, s := range p.parts {
		out = append(out, s...)
	}
	return out, nil
}

// Pending returns how many packets are waiting for segments.
func (r *Reassembler) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func (r *Reassembler) expire(now time.Time) {
	for k, p := range r.pending {
		if now.Sub(p.first) > r.limits.MaxAge {
			delete(r.pending, k)
		}
	}
}

func (r *Reassembler) dropOldest() {
	var oldest reasmKey
	var t time.Time
	found := false
	for k, p := range r.pending {
		if !found || p.first.Before(t) {
			oldest, t, found = k, p.first, true
		}
	}
	if found {
		delete(r.pending, oldest)
	}
}
