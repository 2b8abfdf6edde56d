package ota

import (
	"errors"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Information Element Identifiers of the user data header used with
// secured packets (TS 23.040 §9.2.3.24, TS 31.115 §4.2 and §4.4), as
// smsc/tpdu names them.
const (
	IEIConcat8        = tpdu.IEIConcat8        // concatenated short messages, 8-bit reference
	IEIConcat16       = tpdu.IEIConcat16       // concatenated short messages, 16-bit reference
	IEICommandPacket  = tpdu.IEICommandPacket  // (U)SIM toolkit security header: command packet identifier
	IEIResponsePacket = tpdu.IEIResponsePacket // (U)SIM toolkit security header: response packet identifier
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
// with smsc/tpdu's parser and returns what it says about a secured packet
// (UDHOf), with the user data that follows it.
func ParseUDH(ud []byte) (UDH, []byte, error) {
	var buf [4]tpdu.IE
	ies, end, err := tpdu.AppendHeaderIEs(buf[:0], ud)
	if err != nil {
		var de *tpdu.DecodeError
		if errors.As(err, &de) {
			return UDH{}, nil, decodeErr(de.Offset, "UDH", "%v: %s", de.Err, de.Msg)
		}
		return UDH{}, nil, decodeErr(0, "UDH", "%v", err)
	}
	u, err := UDHOf(ies)
	if err != nil {
		return UDH{}, nil, err
	}
	return u, ud[end:], nil
}

// UDHOf reads what the information elements of a user data header (as
// smsc/tpdu parsed them) say about a secured packet. A concatenation IE of
// the wrong length, a second one, or a segment number outside 1..total is
// malformed. Offsets in errors count from the first IE.
func UDHOf(ies []tpdu.IE) (UDH, error) {
	var u UDH
	off := 1
	for _, ie := range ies {
		switch ie.ID {
		case IEIConcat8, IEIConcat16:
			ref, total, seq, ok := ie.ConcatInfo()
			switch {
			case !ok:
				return UDH{}, decodeErr(off+1, "UDH", "IEI %02x length %d, want %d", ie.ID, len(ie.Data), 3+int(ie.ID/IEIConcat16))
			case u.Concatenated:
				return UDH{}, decodeErr(off, "UDH", "second concatenation element")
			case total == 0 || seq == 0 || seq > total:
				return UDH{}, decodeErr(off+len(ie.Data), "UDH", "concatenation segment %d of %d", seq, total)
			}
			u.Concatenated, u.Ref16, u.Ref, u.Total, u.Seq = true, ie.ID == IEIConcat16, ref, total, seq
		case IEICommandPacket:
			u.CommandPacket = true
		case IEIResponsePacket:
			u.ResponsePacket = true
		}
		off += 2 + len(ie.Data)
	}
	return u, nil
}

// Segments cuts a secured packet into the user data of the short messages
// that carry it (TS 31.115 §4.2 for command packets, iei IEICommandPacket;
// §4.4 with IEIResponsePacket for response packets): one message with the
// header IE iei (length 0) when it fits in MaxUserData bytes, otherwise
// concatenated messages with an 8-bit reference ref (TS 23.040
// §9.2.3.24.1), the first with the concatenation IE and IE iei
// (UDH 07 00 03 ref n 01 iei 00), the others with the concatenation IE only
// (05 00 03 ref n i). pkt is the packet from CPL (command) or RPL
// (response), without its UDH; the segments' data alias it. This is the
// one splitter simlab's senders, card applets and modem use.
func Segments(iei byte, pkt []byte, ref uint8) ([]tpdu.UserData, error) {
	if 3+len(pkt) <= MaxUserData {
		return []tpdu.UserData{{HasHeader: true, Header: []tpdu.IE{{ID: iei, Data: []byte{}}}, Data: pkt}}, nil
	}
	const first, next = MaxUserData - 8, MaxUserData - 6
	n := 1 + (len(pkt)-first+next-1)/next
	if n > 255 {
		return nil, fmt.Errorf("%w: %d bytes need %d short messages, more than 255", ErrTooLong, len(pkt), n)
	}
	out := make([]tpdu.UserData, n)
	// ies holds the headers back to back: concatenation IE 1 and IE iei
	// for the first segment, then one concatenation IE per segment.
	ies := make([]tpdu.IE, n+1)
	ies[1] = tpdu.IE{ID: iei, Data: []byte{}}
	for i := range out {
		take := next
		h := ies[i+1 : i+2 : i+2]
		if i == 0 {
			take, h = first, ies[0:2:2]
		}
		h[0] = tpdu.Concat8(ref, byte(n), byte(i+1))
		take = min(take, len(pkt))
		out[i] = tpdu.UserData{HasHeader: true, Header: h, Data: pkt[:take:take]}
		pkt = pkt[take:]
	}
	return out, nil
}

// SplitSMS returns the TP-User-Data (UDH included) of the short messages
// that carry the command packet pkt (from CPL), as Segments cuts it: one
// message with UDH 02 70 00 when it fits in 140 bytes, otherwise
// concatenated messages with an 8-bit reference ref, the first with UDH
// 07 00 03 ref n 01 70 00, the others 05 00 03 ref n i.
func SplitSMS(pkt []byte, ref uint8) ([][]byte, error) {
	segs, err := Segments(IEICommandPacket, pkt, ref)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(segs))
	for i, seg := range segs {
		ud, err := tpdu.AppendHeader(make([]byte, 0, tpdu.HeaderLen(seg.Header)+len(seg.Data)), seg.Header)
		if err != nil {
			return nil, fmt.Errorf("ota: %w", err)
		}
		out[i] = append(ud, seg.Data...)
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
// packet (TS 31.115 §4.2; TS 23.040 §9.2.3.24.1), card side, with
// smsc/tpdu's Reassembler (simlab's one): by sender, reference and number
// of segments. It holds no global state and takes the time from its
// caller. It is safe for concurrent use.
type Reassembler struct {
	limits ReassemblyLimits
	r      *tpdu.Reassembler[segment]
}

// segment is one segment's payload, and whether its UDH carried IEI 70.
type segment struct {
	data []byte
	cmd  bool
}

// NewReassembler returns a Reassembler bounded by l.
func NewReassembler(l ReassemblyLimits) (*Reassembler, error) {
	// tpdu.NewReassembler checks the limits.
	r, err := tpdu.NewReassembler[segment](tpdu.ReassemblyLimits{MaxParts: l.MaxParts, MaxBytes: l.MaxBytes, MaxAge: l.MaxAge, MaxPending: l.MaxPending})
	if err != nil {
		return nil, fmt.Errorf("ota: %w", err)
	}
	return &Reassembler{limits: l, r: r}, nil
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
	seg := segment{data: append(make([]byte, 0, len(payload)), payload...), cmd: u.CommandPacket}
	a, err := r.r.Add(now, sender, tpdu.Concat{Ref: u.Ref, Wide: u.Ref16, Total: u.Total, Seq: u.Seq}, seg, len(payload))
	switch {
	case errors.Is(err, tpdu.ErrReassemblyLimit):
		return nil, fmt.Errorf("%w: %w", ErrTooLong, err)
	case err != nil:
		return nil, fmt.Errorf("ota: %w", err)
	case a.Complete == nil:
		return nil, nil
	case !a.Complete.Parts[0].cmd:
		return nil, ErrNotCommandPacket
	}
	out := make([]byte, 0, a.Complete.Size)
	for _, s := range a.Complete.Parts {
		out = append(out, s.data...)
	}
	return out, nil
}

// Pending returns how many packets are waiting for segments.
func (r *Reassembler) Pending() int {
	n, _ := r.r.Pending()
	return n
}
